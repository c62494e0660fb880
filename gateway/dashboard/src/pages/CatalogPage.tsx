import { createColumnHelper } from "@tanstack/react-table";
import { useCallback, useMemo, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { allPages, useQuery } from "../api/useQuery";
import { DataTable } from "../components/DataTable";
import { CategoryBadge, Empty, ErrorBox, Loading } from "../components/ui";
import { IntegrationType } from "../gen/sluice/v1/common_pb";
import type { Project, ProjectStatus, Status, WorkItemType } from "../gen/sluice/v1/catalog_pb";
import { useIntegrations } from "../integrations";
import { formatInt, num } from "../lib/format";
import { CATEGORY_KEYS, categoryLabel, categorySlug } from "../lib/labels";

interface Catalog {
  projects: Project[];
  types: WorkItemType[];
  statuses: Status[];
  projectStatuses: ProjectStatus[];
}

const statusCol = createColumnHelper<Status>();

function Matrix({
  testId,
  caption,
  rows,
  cols,
  cell,
  colHeader,
}: {
  testId: string;
  caption: string;
  rows: Project[];
  cols: { id: string; label: string; categoryKey?: string }[];
  cell: (project: Project, colId: string) => string | null;
  colHeader?: (c: { id: string; label: string; categoryKey?: string }) => ReactNode;
}) {
  if (rows.length === 0 || cols.length === 0) return <Empty>Nothing synced yet: run the integration&apos;s metadata sync.</Empty>;
  return (
    <div className="table-wrap matrix-wrap" data-testid={testId}>
      <table className="table matrix">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" className="matrix-corner">
              Project
            </th>
            {cols.map((c) => (
              <th scope="col" key={c.id} className="matrix-col">
                {colHeader ? colHeader(c) : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.externalId} data-project={p.key}>
              <th scope="row" className="matrix-row">
                <span className="mono">{p.key}</span> <span className="muted small">{p.name}</span>
              </th>
              {cols.map((c) => {
                const v = cell(p, c.id);
                return (
                  <td key={c.id} className={v ? "matrix-on" : "matrix-off"} data-col={c.label}>
                    {v ? (
                      <span title={v}>
                        <span aria-hidden="true">●</span>
                        <span className="sr-only">{v}</span>
                      </span>
                    ) : (
                      <span className="sr-only">no</span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CatalogView({ integrationId }: { integrationId: string }) {
  const fetcher = useCallback(
    async (signal: AbortSignal): Promise<Catalog> => {
      const page = { pageSize: 500 };
      const [projects, types, statuses, projectStatuses] = await Promise.all([
        allPages(async (pageToken) => {
          const r = await api.catalog.listProjects({ integrationId, page: { ...page, pageToken } }, { signal });
          return { items: r.projects, next: r.nextPageToken };
        }),
        allPages(async (pageToken) => {
          const r = await api.catalog.listWorkItemTypes({ integrationId, page: { ...page, pageToken } }, { signal });
          return { items: r.workItemTypes, next: r.nextPageToken };
        }),
        allPages(async (pageToken) => {
          const r = await api.catalog.listStatuses({ integrationId, page: { ...page, pageToken } }, { signal });
          return { items: r.statuses, next: r.nextPageToken };
        }),
        allPages(async (pageToken) => {
          const r = await api.catalog.listProjectStatuses({ integrationId, page: { ...page, pageToken } }, { signal });
          return { items: r.projectStatuses, next: r.nextPageToken };
        }),
      ]);
      return { projects, types, statuses, projectStatuses };
    },
    [integrationId],
  );
  const q = useQuery(fetcher);

  const derived = useMemo(() => {
    if (!q.data) return null;
    const { types, statuses, projectStatuses } = q.data;
    const typeById = new Map(types.map((t) => [t.externalId, t]));
    const statusById = new Map(statuses.map((s) => [s.externalId, s]));
    // project → type → statuses, from the project statuses
    const pt = new Map<string, Map<string, Set<string>>>();
    const ps = new Map<string, Map<string, Set<string>>>();
    for (const r of projectStatuses) {
      const tName = typeById.get(r.workItemTypeExternalId)?.name ?? r.workItemTypeExternalId;
      const byType = pt.get(r.projectExternalId) ?? new Map<string, Set<string>>();
      byType.set(r.workItemTypeExternalId, (byType.get(r.workItemTypeExternalId) ?? new Set()).add(r.statusName || r.statusExternalId));
      pt.set(r.projectExternalId, byType);
      const byStatus = ps.get(r.projectExternalId) ?? new Map<string, Set<string>>();
      byStatus.set(r.statusExternalId, (byStatus.get(r.statusExternalId) ?? new Set()).add(tName));
      ps.set(r.projectExternalId, byStatus);
    }
    const usedTypes = types.filter((t) => [...pt.values()].some((m) => m.has(t.externalId)));
    const typeCols = (usedTypes.length ? usedTypes : types)
      .slice()
      .sort((a, b) => a.hierarchyLevel - b.hierarchyLevel || a.name.localeCompare(b.name))
      .map((t) => ({ id: t.externalId, label: t.name }));
    const order = (k: string) => ({ new: 0, indeterminate: 1, done: 2 })[categorySlug(k) as "new"] ?? 3;
    const statusCols = statuses
      .filter((s) => [...ps.values()].some((m) => m.has(s.externalId)))
      .sort((a, b) => order(a.categoryKey) - order(b.categoryKey) || a.name.localeCompare(b.name))
      .map((s) => ({ id: s.externalId, label: s.name, categoryKey: s.categoryKey }));
    const totals = new Map<string, number>();
    for (const s of statuses) totals.set(categorySlug(s.categoryKey), (totals.get(categorySlug(s.categoryKey)) ?? 0) + num(s.workItems));
    return { pt, ps, typeCols, statusCols, totals, statusById };
  }, [q.data]);

  const columns = useMemo(
    () => [
      statusCol.accessor("name", { header: "Status", cell: (c) => <CategoryBadge categoryKey={c.row.original.categoryKey}>{c.getValue()}</CategoryBadge> }),
      statusCol.accessor("categoryKey", { header: "Category", cell: (c) => `${categoryLabel(c.getValue())} (${c.getValue() || "—"})` }),
      statusCol.accessor((s) => num(s.workItems), {
        id: "workItems",
        header: "Work items",
        cell: (c) => (
          <Link to={`/work-items?integration=${integrationId}&status=${encodeURIComponent(c.row.original.name)}`} data-testid="status-count">
            {formatInt(c.getValue())}
          </Link>
        ),
      }),
      statusCol.accessor("externalId", { header: "Id", cell: (c) => <span className="mono">{c.getValue()}</span> }),
    ],
    [integrationId],
  );

  if (q.error !== undefined) return <ErrorBox error={q.error} title="Could not load the catalog" onRetry={q.reload} />;
  if (!q.data || !derived) return <Loading label="Loading projects, types and statuses…" />;
  const { projects, statuses } = q.data;

  return (
    <>
      <section className="card" aria-labelledby="cats-title">
        <h2 id="cats-title">Status categories</h2>
        <ul className="category-legend" data-testid="category-legend">
          {CATEGORY_KEYS.map((k) => (
            <li key={k} data-category={k}>
              <CategoryBadge categoryKey={k} /> {formatInt(derived.totals.get(k) ?? 0)} work items
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="pt-title">
        <h2 id="pt-title">Projects × work item types</h2>
        <Matrix
          testId="matrix-types"
          caption="Which work item types each project uses"
          rows={projects}
          cols={derived.typeCols}
          cell={(p, typeId) => {
            const s = derived.pt.get(p.externalId)?.get(typeId);
            return s ? `${p.key} uses this type (${s.size} statuses: ${[...s].join(", ")})` : null;
          }}
        />
      </section>
      <section className="card" aria-labelledby="ps-title">
        <h2 id="ps-title">Projects × statuses</h2>
        <Matrix
          testId="matrix-statuses"
          caption="Which statuses each project's workflows use"
          rows={projects}
          cols={derived.statusCols}
          colHeader={(c) => <CategoryBadge categoryKey={c.categoryKey ?? ""}>{c.label}</CategoryBadge>}
          cell={(p, statusId) => {
            const s = derived.ps.get(p.externalId)?.get(statusId);
            return s ? `${p.key}: used by ${[...s].join(", ")}` : null;
          }}
        />
      </section>
      <section className="card" aria-labelledby="st-title">
        <h2 id="st-title">Statuses</h2>
        <DataTable
          data={statuses}
          columns={columns}
          getRowId={(s) => s.externalId}
          caption="Statuses with their category and live work items"
          rowTestId="status-row"
          rowAttributes={(s) => ({ "data-status": s.name, "data-category": categorySlug(s.categoryKey) })}
          sortable
          empty={<Empty>No statuses synced yet.</Empty>}
        />
      </section>
    </>
  );
}

export function CatalogPage() {
  const { integrations, loading, error, reload } = useIntegrations();
  const jira = useMemo(() => integrations.filter((i) => i.type === IntegrationType.JIRA), [integrations]);
  const [params, setParams] = useSearchParams();
  const integrationId = params.get("integration") || jira[0]?.id || "";
  return (
    <section className="page" aria-labelledby="cat-title">
      <div className="page-head">
        <h1 id="cat-title">Work item types &amp; statuses</h1>
      </div>
      {error !== undefined && <ErrorBox error={error} title="Could not list the integrations" onRetry={reload} />}
      {loading && integrations.length === 0 && <Loading />}
      {!loading && error === undefined && jira.length === 0 && (
        <Empty>
          No Jira integration yet. <Link to="/integrations/new">Add one</Link>.
        </Empty>
      )}
      {jira.length > 0 && (
        <div className="filters">
          <label>
            Integration
            <select value={integrationId} onChange={(e) => setParams({ integration: e.target.value })} data-testid="catalog-integration">
              {jira.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.name}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {integrationId && <CatalogView key={integrationId} integrationId={integrationId} />}
    </section>
  );
}
