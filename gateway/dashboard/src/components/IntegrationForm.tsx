import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { useId, useState, type FormEvent } from "react";
import { api } from "../api/client";
import { errorText, toApiError } from "../api/errors";
import { IntegrationType } from "../gen/sluice/v1/common_pb";
import { CredentialsSchema, GithubApi, IntegrationSettingsSchema, type Credentials, type Integration, type IntegrationSettings } from "../gen/sluice/v1/integration_pb";
import { parseFieldError } from "../lib/fieldErrors";
import { splitList } from "../lib/format";
import { Field } from "./ui";

type JiraAuth = "basic" | "bearer";

interface FormState {
  type: IntegrationType;
  name: string;
  baseUrl: string;
  jiraAuth: JiraAuth;
  email: string;
  apiToken: string;
  bearer: string;
  githubTokens: string[];
  projectKeys: string;
  timeZone: string;
  pageSize: string;
  pullRequestsFromGithub: boolean;
  organizations: string;
  repositories: string;
  includeArchived: boolean;
  pullRequestsApi: GithubApi;
}

function initial(existing?: Integration): FormState {
  const jira = existing?.settings?.source.case === "jira" ? existing.settings.source.value : undefined;
  const gh = existing?.settings?.source.case === "github" ? existing.settings.source.value : undefined;
  return {
    type: existing?.type ?? IntegrationType.JIRA,
    name: existing?.name ?? "",
    baseUrl: existing?.baseUrl ?? "",
    jiraAuth: existing?.credentialsKind === "bearer" ? "bearer" : "basic",
    email: "",
    apiToken: "",
    bearer: "",
    githubTokens: [""],
    projectKeys: jira?.projectKeys.join(", ") ?? "",
    timeZone: jira?.timeZone ?? "",
    pageSize: jira?.pageSize ? String(jira.pageSize) : "",
    pullRequestsFromGithub: jira?.pullRequestsFromGithub ?? true,
    organizations: gh?.organizations.join(", ") ?? "",
    repositories: gh?.repositories.join(", ") ?? "",
    includeArchived: gh?.includeArchived ?? false,
    pullRequestsApi: gh?.pullRequestsApi ?? GithubApi.AUTO,
  };
}

/** Which input an error path is about. */
function fieldFor(path: string): string {
  const rules: [RegExp, string | ((m: RegExpExecArray) => string)][] = [
    [/^name\b/, "name"],
    [/^base_url\b/, "baseUrl"],
    [/^credentials\.basic\.email\b/, "email"],
    [/^credentials\.basic\.api_token\b/, "apiToken"],
    [/^credentials\.bearer\b/, "bearer"],
    [/^credentials\.github\.tokens\[(\d+)\]/, (m) => `githubToken${m[1] ?? ""}`],
    [/^credentials\b/, "credentials"],
    [/^settings\.jira\.project_keys\b/, "projectKeys"],
    [/^settings\.jira\.time_zone\b/, "timeZone"],
    [/^settings\.jira\.page_size\b/, "pageSize"],
    [/^settings\.github\.organizations\b/, "organizations"],
    [/^settings\.github\.repositories\b/, "repositories"],
    [/^settings\b/, "settings"],
    [/^type\b/, "type"],
  ];
  for (const [re, out] of rules) {
    const m = re.exec(path);
    if (m) return typeof out === "string" ? out : out(m);
  }
  return "form";
}

export interface SavedIntegration {
  integration: Integration;
  jobIds: string[];
  created: boolean;
}

/** Create or edit an integration. Secrets are write-only: typed, sent, then forgotten. */
export function IntegrationForm({ existing, onSaved, onCancel }: { existing?: Integration; onSaved: (s: SavedIntegration) => void; onCancel: () => void }) {
  const [f, setF] = useState<FormState>(() => initial(existing));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const uid = useId();
  const isJira = f.type === IntegrationType.JIRA;
  const editing = existing !== undefined;
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setF((s) => ({ ...s, [k]: v }));

  function credentials(): Credentials | undefined {
    if (isJira) {
      if (f.jiraAuth === "basic") {
        if (!f.email && !f.apiToken) return undefined;
        return create(CredentialsSchema, { kind: { case: "basic", value: { email: f.email.trim(), apiToken: f.apiToken } } });
      }
      if (!f.bearer) return undefined;
      return create(CredentialsSchema, { kind: { case: "bearer", value: { token: f.bearer } } });
    }
    const tokens = f.githubTokens.map((t) => t.trim()).filter((t) => t.length > 0);
    if (tokens.length === 0) return undefined;
    return create(CredentialsSchema, { kind: { case: "github", value: { tokens } } });
  }

  function settings(): IntegrationSettings {
    if (isJira) {
      const pageSize = f.pageSize.trim() ? Number(f.pageSize) : 0;
      return create(IntegrationSettingsSchema, {
        source: {
          case: "jira",
          value: {
            projectKeys: splitList(f.projectKeys).map((k) => k.toUpperCase()),
            timeZone: f.timeZone.trim(),
            pageSize: Number.isFinite(pageSize) ? Math.trunc(pageSize) : 0,
            pullRequestsFromGithub: f.pullRequestsFromGithub,
          },
        },
      });
    }
    return create(IntegrationSettingsSchema, {
      source: {
        case: "github",
        value: {
          organizations: splitList(f.organizations),
          repositories: splitList(f.repositories),
          includeArchived: f.includeArchived,
          pullRequestsApi: f.pullRequestsApi,
        },
      },
    });
  }

  function validate(): Record<string, string> {
    const e: Record<string, string> = {};
    if (!f.name.trim()) e.name = "name: is required";
    if (!f.baseUrl.trim()) e.baseUrl = "base_url: is required";
    else if (!/^https?:\/\//.test(f.baseUrl.trim())) e.baseUrl = "base_url: must start with http:// or https://";
    if (!editing) {
      if (isJira && f.jiraAuth === "basic" && (!f.email.trim() || !f.apiToken)) e.credentials = "credentials: the email and the API token are required";
      if (isJira && f.jiraAuth === "bearer" && !f.bearer) e.credentials = "credentials: the token is required";
      if (!isJira && f.githubTokens.every((t) => !t.trim())) e.credentials = "credentials: at least one token is required";
    } else if (isJira && f.jiraAuth === "basic" && (f.email.trim() !== "") !== (f.apiToken !== "")) {
      e.credentials = "credentials: give both the email and the API token to replace them, or neither to keep them";
    }
    if (f.pageSize.trim() && !/^\d+$/.test(f.pageSize.trim())) e.pageSize = "settings.jira.page_size: a whole number";
    return e;
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const local = validate();
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      let saved: SavedIntegration;
      if (existing) {
        const r = await api.integrations.updateIntegration({
          id: existing.id,
          name: f.name.trim() !== existing.name ? f.name.trim() : undefined,
          baseUrl: f.baseUrl.trim() !== existing.baseUrl ? f.baseUrl.trim() : undefined,
          credentials: credentials(),
          settings: settings(),
        });
        if (!r.integration) throw new Error("the server answered without the integration");
        saved = { integration: r.integration, jobIds: [], created: false };
      } else {
        const r = await api.integrations.createIntegration({
          type: f.type,
          name: f.name.trim(),
          baseUrl: f.baseUrl.trim(),
          credentials: credentials(),
          settings: settings(),
        });
        if (!r.integration) throw new Error("the server answered without the integration");
        saved = { integration: r.integration, jobIds: r.jobIds, created: true };
      }
      // Secrets leave the page's memory once sent.
      setF((s) => ({ ...s, email: "", apiToken: "", bearer: "", githubTokens: [""] }));
      onSaved(saved);
    } catch (err) {
      const ae = toApiError(err);
      const fe = ae.code === Code.InvalidArgument ? parseFieldError(ae.message) : null;
      setErrors(fe ? { [fieldFor(fe.path)]: fe.message } : { form: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  const id = (name: string) => `${uid}-${name}`;

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} data-testid="integration-form" aria-label={editing ? `Edit ${existing.name}` : "New integration"} noValidate>
      <h2>{editing ? `Edit ${existing.name}` : "New integration"}</h2>
      <fieldset className="radio-row" disabled={editing}>
        <legend>Source</legend>
        <label>
          <input type="radio" name={id("type")} checked={isJira} onChange={() => set("type", IntegrationType.JIRA)} data-testid="int-type-jira" /> Jira
        </label>
        <label>
          <input type="radio" name={id("type")} checked={!isJira} onChange={() => set("type", IntegrationType.GITHUB)} data-testid="int-type-github" /> GitHub
        </label>
        {errors.type && <div className="field-error">{errors.type}</div>}
      </fieldset>

      <div className="form-grid">
        <Field label="Name" htmlFor={id("name")} error={errors.name}>
          <input id={id("name")} value={f.name} onChange={(e) => set("name", e.target.value)} data-testid="int-name" autoComplete="off" />
        </Field>
        <Field label="Base URL" htmlFor={id("base")} error={errors.baseUrl} hint={isJira ? "e.g. https://your-domain.atlassian.net" : "https://api.github.com, or https://HOST/api/v3"}>
          <input
            id={id("base")}
            type="url"
            value={f.baseUrl}
            onChange={(e) => set("baseUrl", e.target.value)}
            placeholder={isJira ? "https://your-domain.atlassian.net" : "https://api.github.com"}
            data-testid="int-base-url"
            autoComplete="off"
          />
        </Field>
      </div>

      <fieldset className="subform" data-testid="int-credentials">
        <legend>Credentials</legend>
        <p className="muted small">
          {editing
            ? `Stored: ${existing.credentialsKind || "none"}. Secrets are never shown; leave these empty to keep the stored ones, or type new ones to replace them.`
            : "Stored encrypted and never shown again."}
        </p>
        {errors.credentials && (
          <div className="field-error" role="alert">
            {errors.credentials}
          </div>
        )}
        {isJira ? (
          <>
            <div className="radio-row">
              <label>
                <input type="radio" name={id("auth")} checked={f.jiraAuth === "basic"} onChange={() => set("jiraAuth", "basic")} data-testid="int-auth-basic" /> Email + API token
              </label>
              <label>
                <input type="radio" name={id("auth")} checked={f.jiraAuth === "bearer"} onChange={() => set("jiraAuth", "bearer")} data-testid="int-auth-bearer" /> Bearer token
              </label>
            </div>
            {f.jiraAuth === "basic" ? (
              <div className="form-grid">
                <Field label="Email" htmlFor={id("email")} error={errors.email}>
                  <input id={id("email")} type="email" value={f.email} onChange={(e) => set("email", e.target.value)} autoComplete="off" data-testid="int-email" />
                </Field>
                <Field label="API token" htmlFor={id("token")} error={errors.apiToken}>
                  <input
                    id={id("token")}
                    type="password"
                    value={f.apiToken}
                    onChange={(e) => set("apiToken", e.target.value)}
                    autoComplete="new-password"
                    placeholder={editing ? "•••••• (unchanged)" : ""}
                    data-testid="int-api-token"
                  />
                </Field>
              </div>
            ) : (
              <Field label="Token" htmlFor={id("bearer")} error={errors.bearer}>
                <input
                  id={id("bearer")}
                  type="password"
                  value={f.bearer}
                  onChange={(e) => set("bearer", e.target.value)}
                  autoComplete="new-password"
                  placeholder={editing ? "•••••• (unchanged)" : ""}
                  data-testid="int-bearer-token"
                />
              </Field>
            )}
          </>
        ) : (
          <div className="token-pool">
            <p className="muted small">Token pool: each request uses the token with the most rate-limit budget left.</p>
            {f.githubTokens.map((t, i) => (
              <div className="token-row" key={i}>
                <Field label={`Token ${i + 1}`} htmlFor={id(`gh${i}`)} error={errors[`githubToken${i}`]}>
                  <input
                    id={id(`gh${i}`)}
                    type="password"
                    value={t}
                    onChange={(e) => set("githubTokens", f.githubTokens.map((x, j) => (j === i ? e.target.value : x)))}
                    autoComplete="new-password"
                    placeholder={editing ? "•••••• (unchanged)" : "ghp_… or github_pat_…"}
                    data-testid={`int-github-token-${i}`}
                  />
                </Field>
                {f.githubTokens.length > 1 && (
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => set("githubTokens", f.githubTokens.filter((_, j) => j !== i))}
                    aria-label={`Remove token ${i + 1}`}
                  >
                    Remove
                  </button>
                )}
              </div>
            ))}
            <button type="button" className="btn btn-small" onClick={() => set("githubTokens", [...f.githubTokens, ""])} data-testid="int-add-token">
              Add token
            </button>
          </div>
        )}
      </fieldset>

      <fieldset className="subform">
        <legend>Settings</legend>
        {errors.settings && <div className="field-error">{errors.settings}</div>}
        {isJira ? (
          <div className="form-grid">
            <Field label="Project keys" htmlFor={id("keys")} error={errors.projectKeys} hint="Comma-separated; empty for every project the credentials can see.">
              <input id={id("keys")} value={f.projectKeys} onChange={(e) => set("projectKeys", e.target.value)} placeholder="ENG, OPS" data-testid="int-project-keys" />
            </Field>
            <Field label="Time zone" htmlFor={id("tz")} error={errors.timeZone} hint="IANA name of the Jira user's zone; default UTC.">
              <input id={id("tz")} value={f.timeZone} onChange={(e) => set("timeZone", e.target.value)} placeholder="UTC" data-testid="int-time-zone" />
            </Field>
            <Field label="Page size" htmlFor={id("ps")} error={errors.pageSize} hint="Default 50.">
              <input id={id("ps")} inputMode="numeric" value={f.pageSize} onChange={(e) => set("pageSize", e.target.value)} placeholder="50" data-testid="int-page-size" />
            </Field>
            <div className="field field-check">
              <label title="When this tenant's GitHub integrations link exactly the pull requests Jira counts for an issue, Sluice uses them instead of asking Jira for the pull-request detail.">
                <input
                  type="checkbox"
                  checked={f.pullRequestsFromGithub}
                  onChange={(e) => set("pullRequestsFromGithub", e.target.checked)}
                  data-testid="int-prs-from-github"
                />{" "}
                Dev status: pull requests from Sluice&apos;s GitHub sync
              </label>
            </div>
          </div>
        ) : (
          <div className="form-grid">
            <Field label="Organizations" htmlFor={id("orgs")} error={errors.organizations} hint="All their repositories.">
              <input id={id("orgs")} value={f.organizations} onChange={(e) => set("organizations", e.target.value)} placeholder="acme" data-testid="int-orgs" />
            </Field>
            <Field label="Repositories" htmlFor={id("repos")} error={errors.repositories} hint="owner/name, comma-separated.">
              <input id={id("repos")} value={f.repositories} onChange={(e) => set("repositories", e.target.value)} placeholder="acme/api, acme/web" data-testid="int-repos" />
            </Field>
            <div className="field field-check">
              <label>
                <input type="checkbox" checked={f.includeArchived} onChange={(e) => set("includeArchived", e.target.checked)} data-testid="int-include-archived" /> Include archived
                repositories
              </label>
            </div>
            <Field
              label="Pull requests via"
              htmlFor={id("api")}
              hint="GraphQL spends about 0.03 points of a token's 5,000 per hour per pull request; REST about three of its 5,000 requests."
            >
              <select
                id={id("api")}
                value={f.pullRequestsApi}
                onChange={(e) => set("pullRequestsApi", Number(e.target.value) as GithubApi)}
                data-testid="int-github-api"
              >
                <option value={GithubApi.AUTO}>GraphQL, REST where the server has none</option>
                <option value={GithubApi.GRAPHQL}>GraphQL only</option>
                <option value={GithubApi.REST}>REST only</option>
              </select>
            </Field>
          </div>
        )}
      </fieldset>

      {errors.form && (
        <div className="alert alert-danger" role="alert" data-testid="int-form-error">
          {errors.form}
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="int-submit">
          {busy ? "Saving…" : editing ? "Save changes" : "Create integration"}
        </button>
        <button type="button" className="btn" onClick={onCancel} data-testid="int-cancel">
          Cancel
        </button>
      </div>
    </form>
  );
}
