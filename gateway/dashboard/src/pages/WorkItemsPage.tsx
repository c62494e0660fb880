import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createColumnHelper } from "@tanstack/react-table";
import { useCallback, useMemo, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { allPages, useQuery } from "../api/useQuery";
import { DataTable } from "../components/DataTable";
import { CategoryBadge, Empty, ErrorBox, Loading } from "../components/ui";
import { DeletedFilter, type WorkItem } from "../gen/sluice/v1/catalog_pb";
import { IntegrationType } from "../gen/sluice/v1/common_pb";
import { integrationName, useIntegrations } from "../integrations";
import { dayEnd, dayStart, formatTime, toDate } from "../lib/format";
import { CATEGORY_KEYS, categoryLabel } from "../lib/labels";

interface Filters {
  integration: string;
  project: string;
  types: string[];
  statuses: string[];
  categories: string[];
  assignee: string;
  from: string;
  to: string;
  deleted: string;
  text: string;
}

function readFilters(p: URLSearchParams): Filters {
  const list = (k: string) => (p.get(k) ?? "").split(",").filter((s) => s.length > 0);
  return {
    integration: p.get("integration") ?? "",
    project: p.get("project") ?? "",
    types: list("type"),
    statuses: list("status"),
    categories: list("category"),
    assignee: p.get("assignee") ?? "",
    from: p.get("from") ?? "",
    to: p.get("to") ?? "",
    deleted: p.get("deleted") ?? "live",
    text: p.get("q") ?? "",
  };
}

function writeFilters(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  const put = (k: string, v: string) => {
    if (v) p.set(k, v);
  };
  put("integration", f.integration);
  put("project", f.project);
  put("type", f.types.join(","));
  put("status", f.statuses.join(","));
  put("category", f.categories.join(","));
  put("assignee", f.assignee.trim());
  put("from", f.from);
  put("to", f.to);
  if (f.deleted !== "live") put("deleted", f.deleted);
  put("q", f.text.trim());
  return p;
}

const DELETED: Record<string, DeletedFilter> = {
  live: DeletedFilter.LIVE,
  deleted: DeletedFilter.DELETED,
  all: DeletedFilter.ALL,
};

function MultiPick({ label, options, value, onChange, testId }: { label: string; options: string[]; value: string[]; onChange: (v: string[]) => void; testId: string }) {
  return (
    <details className="multi" data-testid={testId}>
      <summary>
        {label}: {value.length ? value.join(", ") : "any"}
      </summary>
      <div className="multi-options">
        {options.length === 0 && <span className="muted small">No options</span>}
        {options.map((o) => (
          <label key={o}>
            <input type="checkbox" checked={value.includes(o)} onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))} /> {o}
          </label>
        ))}
      </div>
    </details>
  );
}

interface Options {
  projects: string[];
  types: string[];
  statuses: string[];
}

const col = createColumnHelper<WorkItem>();

export function WorkItemsPage() {
  const integrationsApi = useIntegrations();
  const allIntegrations = integrationsApi.integrations;
  const jira = useMemo(() => allIntegrations.filter((i) => i.type === IntegrationType.JIRA), [allIntegrations]);
  const [params, setParams] = useSearchParams();
  const applied = useMemo(() => readFilters(params), [params]);
  const appliedKey = params.toString();
  const [draft, setDraft] = useState<{ key: string; f: Filters } | null>(null);
  const form = draft && draft.key === appliedKey ? draft.f : applied;
  const setForm = (patch: Partial<Filters>) => setDraft({ key: appliedKey, f: { ...form, ...patch } });

  // Page tokens of the pages before the current one, for "Previous".
  const [paging, setPaging] = useState<{ key: string; tokens: string[] }>({ key: "", tokens: [] });
  const tokens = paging.key === appliedKey ? paging.tokens : [];
  const pageToken = tokens.at(-1) ?? "";

  const optionKey = applied.integration || jira.map((i) => i.id).join(",");
  const fetchOptions = useCallback(
    async (signal: AbortSignal): Promise<Options> => {
      const ids = optionKey ? optionKey.split(",") : [];
      const sets = { projects: new Set<string>(), types: new Set<string>(), statuses: new Set<string>() };
      await Promise.all(
        ids.map(async (integrationId) => {
          const page = (pageToken: string) => ({ integrationId, page: { pageSize: 500, pageToken } });
          const [p, t, s] = await Promise.all([
            allPages(async (tok) => {
              const r = await api.catalog.listProjects(page(tok), { signal });
              return { items: r.projects, next: r.nextPageToken };
            }),
            allPages(async (tok) => {
              const r = await api.catalog.listWorkItemTypes(page(tok), { signal });
              return { items: r.workItemTypes, next: r.nextPageToken };
            }),
            allPages(async (tok) => {
              const r = await api.catalog.listStatuses(page(tok), { signal });
              return { items: r.statuses, next: r.nextPageToken };
            }),
          ]);
          p.forEach((x) => sets.projects.add(x.key));
          t.forEach((x) => sets.types.add(x.name));
          s.forEach((x) => sets.statuses.add(x.name));
        }),
      );
      const sorted = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));
      return { projects: sorted(sets.projects), types: sorted(sets.types), statuses: sorted(sets.statuses) };
    },
    [optionKey],
  );
  const options = useQuery(optionKey ? fetchOptions : null);

  const fetchItems = useCallback(
    async (signal: AbortSignal) => {
      const from = dayStart(applied.from);
      const to = dayEnd(applied.to);
      const r = await api.catalog.listWorkItems(
        {
          integrationId: applied.integration,
          projectKey: applied.project,
          page: { pageSize: 50, pageToken },
          workItemTypes: applied.types,
          statuses: applied.statuses,
          statusCategories: applied.categories,
          assignee: applied.assignee.trim(),
          updated: from || to ? { from: from ? timestampFromDate(from) : undefined, to: to ? timestampFromDate(to) : undefined } : undefined,
          deleted: DELETED[applied.deleted] ?? DeletedFilter.LIVE,
          text: applied.text.trim(),
        },
        { signal },
      );
      return r;
    },
    [applied, pageToken],
  );
  const items = useQuery(fetchItems);

  function submit(e: FormEvent) {
    e.preventDefault();
    setParams(writeFilters(form));
    setDraft(null);
  }

  const columns = useMemo(
    () => [
      col.accessor("key", {
        header: "Key",
        cell: (c) => (
          <Link to={`/work-items/${c.row.original.integrationId}/${encodeURIComponent(c.getValue() || c.row.original.externalId)}`} className="mono" data-testid="work-item-link">
            {c.getValue()}
          </Link>
        ),
      }),
      col.accessor("summary", { header: "Summary", cell: (c) => <span className="cell-summary">{c.getValue()}</span> }),
      col.accessor("workItemType", { header: "Type" }),
      col.accessor("status", { header: "Status", cell: (c) => <CategoryBadge categoryKey={c.row.original.statusCategoryKey}>{c.getValue()}</CategoryBadge> }),
      col.accessor("assigneeName", { header: "Assignee", cell: (c) => c.getValue() || <span className="muted">unassigned</span> }),
      col.accessor("projectKey", { header: "Project" }),
      col.accessor("updated", { header: "Updated", cell: (c) => formatTime(c.getValue()) }),
      col.display({
        id: "deleted",
        header: "",
        cell: (c) => (toDate(c.row.original.deletedAt) ? <span className="badge badge-failed">deleted</span> : null),
      }),
    ],
    [],
  );

  const rows = items.data?.workItems ?? [];
  const next = items.data?.nextPageToken ?? "";
  const pageNo = tokens.length + 1;

  return (
    <section className="page" aria-labelledby="wi-title">
      <div className="page-head">
        <h1 id="wi-title">Work items</h1>
      </div>
      <form className="filters filters-wrap" role="search" aria-label="Filter work items" onSubmit={submit} data-testid="wi-filters">
        <label>
          Integration
          <select value={form.integration} onChange={(e) => setForm({ integration: e.target.value, project: "" })} data-testid="wi-integration">
            <option value="">All integrations</option>
            {jira.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Project
          <select value={form.project} onChange={(e) => setForm({ project: e.target.value })} data-testid="wi-project">
            <option value="">All projects</option>
            {(options.data?.projects ?? (form.project ? [form.project] : [])).map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <MultiPick label="Type" options={options.data?.types ?? []} value={form.types} onChange={(v) => setForm({ types: v })} testId="wi-types" />
        <MultiPick label="Status" options={options.data?.statuses ?? []} value={form.statuses} onChange={(v) => setForm({ statuses: v })} testId="wi-statuses" />
        <fieldset className="inline-checks" data-testid="wi-categories">
          <legend>Category</legend>
          {CATEGORY_KEYS.map((k) => (
            <label key={k}>
              <input
                type="checkbox"
                checked={form.categories.includes(k)}
                onChange={(e) => setForm({ categories: e.target.checked ? [...form.categories, k] : form.categories.filter((x) => x !== k) })}
              />{" "}
              {categoryLabel(k)}
            </label>
          ))}
        </fieldset>
        <label>
          Assignee
          <input value={form.assignee} onChange={(e) => setForm({ assignee: e.target.value })} placeholder="Name or account id" data-testid="wi-assignee" />
        </label>
        <label>
          Updated from
          <input type="date" value={form.from} onChange={(e) => setForm({ from: e.target.value })} data-testid="wi-from" />
        </label>
        <label>
          Updated to
          <input type="date" value={form.to} onChange={(e) => setForm({ to: e.target.value })} data-testid="wi-to" />
        </label>
        <label>
          Deleted
          <select value={form.deleted} onChange={(e) => setForm({ deleted: e.target.value })} data-testid="wi-deleted">
            <option value="live">Live only</option>
            <option value="deleted">Deleted only</option>
            <option value="all">Live and deleted</option>
          </select>
        </label>
        <label className="grow">
          Text
          <input type="search" value={form.text} onChange={(e) => setForm({ text: e.target.value })} placeholder="Key, summary or description" data-testid="wi-text" />
        </label>
        <div className="filter-actions">
          <button type="submit" className="btn btn-primary" data-testid="wi-apply">
            Apply
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => {
              setDraft(null);
              setParams(new URLSearchParams());
            }}
          >
            Reset
          </button>
        </div>
      </form>
      {options.error !== undefined && <ErrorBox error={options.error} title="Could not load the filter options" onRetry={options.reload} />}
      {items.error !== undefined && <ErrorBox error={items.error} title="Could not list the work items" onRetry={items.reload} />}
      {items.loading && !items.data && <Loading label="Loading work items…" />}
      {items.data && (
        <>
          <DataTable
            data={rows}
            columns={columns}
            getRowId={(w) => `${w.integrationId}/${w.externalId}`}
            caption="Work items, newest update first"
            rowTestId="work-item-row"
            rowAttributes={(w) => ({ "data-key": w.key, "data-integration-id": w.integrationId })}
            testId="work-items-table"
            empty={
              <Empty>
                No work items match{applied.integration ? ` in ${integrationName(integrationsApi, applied.integration)}` : ""}. Change the filters, or sync an integration.
              </Empty>
            }
          />
          <div className="pager" aria-label="Pages">
            <button type="button" className="btn" disabled={tokens.length === 0} onClick={() => setPaging({ key: appliedKey, tokens: tokens.slice(0, -1) })} data-testid="wi-prev">
              Previous
            </button>
            <span className="muted" aria-live="polite">
              Page {pageNo}
              {items.loading ? " (loading…)" : ""}
            </span>
            <button type="button" className="btn" disabled={!next || items.loading} onClick={() => setPaging({ key: appliedKey, tokens: [...tokens, next] })} data-testid="wi-next">
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}
