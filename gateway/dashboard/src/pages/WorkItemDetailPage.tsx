import { useCallback, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import { api } from "../api/client";
import { useQuery } from "../api/useQuery";
import { Badge, CategoryBadge, Empty, ErrorBox, Loading } from "../components/ui";
import type { ChangelogEntry } from "../gen/sluice/v1/catalog_pb";
import { integrationName, useIntegrations } from "../integrations";
import { columnName } from "../lib/fieldMapping";
import { formatJsonValue, formatTime, toDate } from "../lib/format";

function groupChangelog(entries: ChangelogEntry[]) {
  const groups: { id: string; author: string; at: ChangelogEntry["changedAt"]; items: ChangelogEntry[] }[] = [];
  for (const e of entries) {
    const last = groups.at(-1);
    if (last && last.id === e.historyId) last.items.push(e);
    else groups.push({ id: e.historyId, author: e.authorName, at: e.changedAt, items: [e] });
  }
  return groups;
}

function ExternalLink({ href, children, testId }: { href: string; children: ReactNode; testId?: string }) {
  if (!/^https?:\/\//.test(href)) return <>{children}</>;
  return (
    <a href={href} target="_blank" rel="noreferrer" data-testid={testId}>
      {children}
    </a>
  );
}

export function WorkItemDetailPage() {
  const { integrationId = "", key = "" } = useParams();
  const integrations = useIntegrations();
  const fetcher = useCallback(async (signal: AbortSignal) => api.catalog.getWorkItem({ integrationId, key }, { signal }), [integrationId, key]);
  const q = useQuery(fetcher);

  if (q.error !== undefined)
    return (
      <section className="page">
        <h1>
          <Link to="/work-items" className="crumb">
            Work items
          </Link>{" "}
          / {key}
        </h1>
        <ErrorBox error={q.error} title="Could not load the work item" onRetry={q.reload} />
      </section>
    );
  if (!q.data) return <Loading label={`Loading ${key}…`} />;
  if (!q.data.workItem) return <ErrorBox error={new Error(`work item ${key} not found`)} title="No such work item" />;
  const { workItem: w, customFields, changelog, devStatus, linkedPullRequests } = q.data;
  const deleted = toDate(w.deletedAt);
  const core: [string, ReactNode][] = [
    ["Type", w.workItemType],
    ["Status", <CategoryBadge key="s" categoryKey={w.statusCategoryKey}>{w.status}</CategoryBadge>],
    ["Project", w.projectKey],
    ["Priority", w.priority || "—"],
    ["Assignee", w.assigneeName || "unassigned"],
    ["Reporter", w.reporterName || "—"],
    ["Created", formatTime(w.created)],
    ["Updated", formatTime(w.updated)],
    ["Resolution", w.resolution ? `${w.resolution} (${formatTime(w.resolutionDate)})` : "—"],
    ["Parent", w.parentKey || "—"],
    ["Epic", w.epicKey || "—"],
    ["Sprint", w.sprint || "—"],
    ["Story points", w.storyPoints !== undefined ? String(w.storyPoints) : "—"],
    ["Team", w.team || "—"],
    ["Labels", w.labels.join(", ") || "—"],
    ["Components", w.components.join(", ") || "—"],
    ["Fix versions", w.fixVersions.join(", ") || "—"],
    ["Integration", integrationName(integrations, w.integrationId)],
  ];

  return (
    <section className="page" aria-labelledby="wi-detail-title" data-testid="work-item-detail" data-key={w.key}>
      <div className="page-head">
        <h1 id="wi-detail-title">
          <Link to="/work-items" className="crumb">
            Work items
          </Link>{" "}
          / <span className="mono">{w.key}</span> {w.summary}
        </h1>
        {w.url && (
          <ExternalLink href={w.url} testId="work-item-external">
            Open in Jira ↗
          </ExternalLink>
        )}
      </div>
      {deleted && <div className="alert alert-warn">No longer in Jira since {formatTime(deleted)} (deleted or moved away).</div>}

      <div className="detail-grid">
        <section className="card" aria-labelledby="core-title">
          <h2 id="core-title">Fields</h2>
          <dl className="kv kv-grid" data-testid="core-fields">
            {core.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
          {w.descriptionText && (
            <>
              <h3>Description</h3>
              <p className="description">{w.descriptionText}</p>
            </>
          )}
        </section>

        <section className="card" aria-labelledby="cf-title">
          <h2 id="cf-title">Custom fields</h2>
          {customFields.length === 0 ? (
            <Empty testId="no-custom-fields">
              No mapped custom field has a value here. <Link to={`/custom-fields?integration=${w.integrationId}`}>Map fields</Link>, then reprocess.
            </Empty>
          ) : (
            <dl className="kv" data-testid="custom-fields">
              {customFields.map((f) => (
                <div key={f.fieldId} data-testid="custom-field" data-field-id={f.fieldId} data-field-name={f.name} data-column={f.column}>
                  <dt>
                    {f.name} <span className="muted small mono">{f.column > 0 ? columnName(f.column) : "overflow"}</span>
                  </dt>
                  <dd data-testid="custom-field-value">{formatJsonValue(f.valueJson)}</dd>
                </div>
              ))}
            </dl>
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="cl-title">
        <h2 id="cl-title">Changelog</h2>
        {changelog.length === 0 ? (
          <Empty>No changes recorded.</Empty>
        ) : (
          <ol className="timeline" data-testid="changelog">
            {groupChangelog(changelog).map((g) => (
              <li key={g.id} className="timeline-item">
                <div className="timeline-when">
                  {formatTime(g.at)} · {g.author || "someone"}
                </div>
                <ul>
                  {g.items.map((e) => (
                    <li key={`${e.historyId}-${e.itemIndex}`}>
                      <strong>{e.field}</strong>: <span className="muted">{e.fromString || "∅"}</span> → {e.toString$ || "∅"}
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ol>
        )}
      </section>

      <div className="detail-grid">
        <section className="card" aria-labelledby="dev-title">
          <h2 id="dev-title">Development (Jira dev status)</h2>
          {devStatus.length === 0 ? (
            <Empty>No branches, commits or pull requests in Jira&apos;s development panel.</Empty>
          ) : (
            <ul className="plain-list" data-testid="dev-status">
              {devStatus.map((d) => (
                <li key={`${d.kind}-${d.refId}`}>
                  <Badge kind="info">{d.kind.replace("_", " ")}</Badge>{" "}
                  <ExternalLink href={d.url}>{d.name || d.refId}</ExternalLink> <span className="muted small">{d.repository}</span>
                  {d.status && <span className="small"> · {d.status}</span>}
                  {d.authorName && <span className="muted small"> · {d.authorName}</span>}
                  {toDate(d.lastUpdate) && <span className="muted small"> · {formatTime(d.lastUpdate)}</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="pr-title">
          <h2 id="pr-title">Linked pull requests</h2>
          {linkedPullRequests.length === 0 ? (
            <Empty>No synced pull request mentions {w.key}.</Empty>
          ) : (
            <ul className="plain-list" data-testid="linked-prs">
              {linkedPullRequests.map((pr) => (
                <li key={`${pr.repository}#${pr.number}`}>
                  <ExternalLink href={pr.url} testId="linked-pr">
                    {pr.repository}#{String(pr.number)}: {pr.title}
                  </ExternalLink>{" "}
                  <Badge kind={pr.merged ? "completed" : pr.state === "open" ? "running" : "paused"}>{pr.merged ? "merged" : pr.draft ? "draft" : pr.state}</Badge>
                  <span className="muted small"> · {pr.author}</span>
                  <span className="muted small"> · updated {formatTime(pr.updatedAt)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </section>
  );
}
