import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api } from "../api/client";
import { errorText } from "../api/errors";
import { IntegrationForm, type SavedIntegration } from "../components/IntegrationForm";
import { Badge, ConfirmDialog, Empty, ErrorBox, Loading } from "../components/ui";
import { IntegrationType } from "../gen/sluice/v1/common_pb";
import type { Integration, TestConnectionResponse } from "../gen/sluice/v1/integration_pb";
import { typeLabel, useIntegrations } from "../integrations";
import { formatTime, num } from "../lib/format";

type TestState = { kind: "running" } | { kind: "done"; result: TestConnectionResponse } | { kind: "error"; message: string };

function scopeSummary(i: Integration): string {
  const s = i.settings?.source;
  if (s?.case === "jira") return s.value.projectKeys.length ? `projects ${s.value.projectKeys.join(", ")}` : "every visible project";
  if (s?.case === "github") {
    const parts = [...s.value.organizations.map((o) => `org ${o}`), ...s.value.repositories];
    return `${parts.length ? parts.join(", ") : "no repositories"}${s.value.includeArchived ? " (with archived)" : ""}`;
  }
  return "";
}

function IntegrationCard({ integration, onChanged, onDeleteAsk }: { integration: Integration; onChanged: () => void; onDeleteAsk: (i: Integration) => void }) {
  const [test, setTest] = useState<TestState | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function runTest() {
    setTest({ kind: "running" });
    try {
      setTest({ kind: "done", result: await api.integrations.testConnection({ id: integration.id }) });
    } catch (err) {
      setTest({ kind: "error", message: errorText(err) });
    }
  }

  async function toggleActive() {
    setBusy(true);
    setError(null);
    try {
      await api.integrations.setIntegrationActive({ id: integration.id, active: !integration.active });
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <article className="card integration-card" data-testid="integration-card" data-integration-id={integration.id} data-integration-name={integration.name} aria-label={`Integration ${integration.name}`}>
      <header className="card-head">
        <div>
          <h3 className="card-title">{integration.name}</h3>
          <div className="muted small">
            {typeLabel(integration.type)} · <span className="mono">{integration.baseUrl}</span>
          </div>
        </div>
        <Badge kind={integration.active ? "completed" : "paused"} testId="integration-active">
          {integration.active ? "active" : "inactive"}
        </Badge>
      </header>
      <dl className="kv">
        <div>
          <dt>Credentials</dt>
          <dd>{integration.credentialsKind || "—"} (write-only)</dd>
        </div>
        <div>
          <dt>Scope</dt>
          <dd>{scopeSummary(integration)}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>{formatTime(integration.updatedAt)}</dd>
        </div>
      </dl>
      {test && (
        <div
          className={`alert ${test.kind === "done" && test.result.ok ? "alert-ok" : test.kind === "running" ? "alert-info" : "alert-danger"}`}
          role="status"
          data-testid="test-result"
          data-ok={test.kind === "done" ? String(test.result.ok) : test.kind === "error" ? "false" : undefined}
        >
          {test.kind === "running" && "Testing the connection…"}
          {test.kind === "error" && `Test failed: ${test.message}`}
          {test.kind === "done" && (
            <>
              <strong>{test.result.ok ? "Connection OK" : "Connection failed"}</strong>
              {test.result.message && <> — {test.result.message}</>}
              {test.result.accountName && <> · account {test.result.accountName}</>}
              {num(test.result.latencyMs) > 0 && <> · {num(test.result.latencyMs)} ms</>}
            </>
          )}
        </div>
      )}
      {error && (
        <div className="alert alert-danger" role="alert">
          {error}
        </div>
      )}
      <div className="card-actions">
        <button type="button" className="btn btn-small btn-primary" onClick={() => void runTest()} disabled={test?.kind === "running"} data-testid="integration-test">
          Test connection
        </button>
        <Link className="btn btn-small" to={`/integrations/${integration.id}`} data-testid="integration-edit">
          Edit
        </Link>
        <button type="button" className="btn btn-small" onClick={() => void toggleActive()} disabled={busy} data-testid="integration-toggle-active">
          {integration.active ? "Deactivate" : "Activate"}
        </button>
        <Link className="btn btn-small btn-link" to={`/jobs?integration=${integration.id}`} data-testid="integration-jobs">
          Jobs
        </Link>
        {integration.type === IntegrationType.JIRA && (
          <Link className="btn btn-small btn-link" to={`/custom-fields?integration=${integration.id}`} data-testid="integration-custom-fields">
            Custom fields
          </Link>
        )}
        <button type="button" className="btn btn-small btn-danger" onClick={() => onDeleteAsk(integration)} data-testid="integration-delete">
          Delete
        </button>
      </div>
    </article>
  );
}

export function IntegrationsPage() {
  const { integrationId } = useParams();
  const navigate = useNavigate();
  const { integrations, byId, loading, error, reload } = useIntegrations();
  const [created, setCreated] = useState<SavedIntegration | null>(null);
  const [deleting, setDeleting] = useState<Integration | null>(null);
  const [deleteBusy, setDeleteBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  const creating = integrationId === "new";
  const editing = integrationId && !creating ? byId.get(integrationId) : undefined;

  function saved(s: SavedIntegration) {
    setCreated(s);
    reload();
    void navigate("/integrations");
  }

  async function confirmDelete() {
    if (!deleting) return;
    setDeleteBusy(true);
    setDeleteError(null);
    try {
      await api.integrations.deleteIntegration({ id: deleting.id });
      setDeleting(null);
      setCreated(null);
      reload();
    } catch (err) {
      setDeleteError(errorText(err));
    } finally {
      setDeleteBusy(false);
    }
  }

  return (
    <section className="page" aria-labelledby="int-title">
      <div className="page-head">
        <h1 id="int-title">Integrations</h1>
        {!creating && (
          <Link className="btn btn-primary" to="/integrations/new" data-testid="integration-new">
            New integration
          </Link>
        )}
      </div>

      {creating && <IntegrationForm onSaved={saved} onCancel={() => void navigate("/integrations")} />}
      {integrationId && !creating && !editing && !loading && (
        <ErrorBox error={new Error(`integration ${integrationId} not found`)} title="No such integration" />
      )}
      {editing && <IntegrationForm key={editing.id} existing={editing} onSaved={saved} onCancel={() => void navigate("/integrations")} />}

      {created && (
        <div className="alert alert-ok" role="status" data-testid="integration-saved" data-integration-id={created.integration.id}>
          {created.created ? (
            <>
              Created <strong>{created.integration.name}</strong>
              {created.jobIds.length > 0 && (
                <>
                  {" "}
                  with {created.jobIds.length} job{created.jobIds.length > 1 ? "s" : ""}.{" "}
                  <Link to={`/jobs?integration=${created.integration.id}`} data-testid="integration-saved-jobs">
                    See its jobs
                  </Link>
                </>
              )}
            </>
          ) : (
            <>Saved {created.integration.name}.</>
          )}
        </div>
      )}

      {error !== undefined && <ErrorBox error={error} title="Could not list the integrations" onRetry={reload} />}
      {loading && integrations.length === 0 && <Loading label="Loading integrations…" />}
      {!loading && error === undefined && integrations.length === 0 && !creating && (
        <Empty>
          No integrations yet. <Link to="/integrations/new">Connect Jira or GitHub</Link>.
        </Empty>
      )}
      <div className="card-list">
        {integrations.map((i) => (
          <IntegrationCard key={i.id} integration={i} onChanged={reload} onDeleteAsk={(x) => setDeleting(x)} />
        ))}
      </div>

      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel={deleteBusy ? "Deleting…" : "Delete integration"}
        danger
        busy={deleteBusy}
        onConfirm={() => void confirmDelete()}
        onCancel={() => {
          setDeleting(null);
          setDeleteError(null);
        }}
      >
        <p>This deletes the integration with its jobs, runs, raw pages and synced rows. It cannot be undone.</p>
        {deleteError && (
          <div className="alert alert-danger" role="alert">
            {deleteError}
          </div>
        )}
      </ConfirmDialog>
    </section>
  );
}
