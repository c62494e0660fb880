import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useCallback, useMemo, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { useQuery } from "../api/useQuery";
import { Badge, Empty, ErrorBox, Loading } from "../components/ui";
import type { SearchResult } from "../gen/sluice/v1/search_pb";
import { dayEnd, dayStart, splitList } from "../lib/format";

interface Form {
  q: string;
  workItems: boolean;
  pullRequests: boolean;
  projects: string;
  types: string;
  statuses: string;
  from: string;
  to: string;
  hybrid: boolean;
  topK: string;
}

function readForm(p: URLSearchParams): Form {
  const sources = (p.get("sources") ?? "work_item,pull_request").split(",");
  return {
    q: p.get("q") ?? "",
    workItems: sources.includes("work_item"),
    pullRequests: sources.includes("pull_request"),
    projects: p.get("projects") ?? "",
    types: p.get("types") ?? "",
    statuses: p.get("statuses") ?? "",
    from: p.get("from") ?? "",
    to: p.get("to") ?? "",
    hybrid: p.get("hybrid") === "1",
    topK: p.get("k") ?? "20",
  };
}

function writeForm(f: Form): URLSearchParams {
  const p = new URLSearchParams();
  p.set("q", f.q.trim());
  const sources = [f.workItems && "work_item", f.pullRequests && "pull_request"].filter(Boolean).join(",");
  if (sources !== "work_item,pull_request") p.set("sources", sources);
  if (f.projects.trim()) p.set("projects", splitList(f.projects).join(","));
  if (f.types.trim()) p.set("types", f.types.split(",").map((s) => s.trim()).filter(Boolean).join(","));
  if (f.statuses.trim()) p.set("statuses", f.statuses.split(",").map((s) => s.trim()).filter(Boolean).join(","));
  if (f.from) p.set("from", f.from);
  if (f.to) p.set("to", f.to);
  if (f.hybrid) p.set("hybrid", "1");
  if (f.topK && f.topK !== "20") p.set("k", f.topK);
  return p;
}

/** In-app address of a work item result ("<integration id>/<external id>"), else null. */
function workItemPath(r: SearchResult): string | null {
  if (r.entityType !== "work_item") return null;
  const slash = r.entityId.indexOf("/");
  if (slash <= 0) return null;
  const integrationId = r.entityId.slice(0, slash);
  const ref = r.key || r.entityId.slice(slash + 1);
  return `/work-items/${integrationId}/${encodeURIComponent(ref)}`;
}

export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const applied = useMemo(() => readForm(params), [params]);
  const appliedKey = params.toString();
  const [draft, setDraft] = useState<{ key: string; f: Form } | null>(null);
  const form = draft && draft.key === appliedKey ? draft.f : applied;
  const set = (patch: Partial<Form>) => setDraft({ key: appliedKey, f: { ...form, ...patch } });

  const fetcher = useCallback(
    async (signal: AbortSignal) => {
      const from = dayStart(applied.from);
      const to = dayEnd(applied.to);
      const sources = [applied.workItems && "work_item", applied.pullRequests && "pull_request"].filter((s): s is string => typeof s === "string");
      const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
      return api.search.search(
        {
          query: applied.q.trim(),
          topK: Math.max(1, Math.min(100, Number(applied.topK) || 20)),
          hybrid: applied.hybrid,
          filters: {
            sources: sources.length === 2 ? [] : sources,
            projectKeys: splitList(applied.projects),
            workItemTypes: list(applied.types),
            statuses: list(applied.statuses),
            updated: from || to ? { from: from ? timestampFromDate(from) : undefined, to: to ? timestampFromDate(to) : undefined } : undefined,
          },
        },
        { signal },
      );
    },
    [applied],
  );
  const q = useQuery(applied.q.trim() ? fetcher : null);

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!form.q.trim()) return;
    setParams(writeForm(form));
    setDraft(null);
  }

  return (
    <section className="page" aria-labelledby="search-title">
      <div className="page-head">
        <h1 id="search-title">Search</h1>
      </div>
      <form className="card form search-form" role="search" onSubmit={submit} data-testid="search-form">
        <div className="search-row">
          <label htmlFor="search-q" className="sr-only">
            Query
          </label>
          <input
            id="search-q"
            type="search"
            value={form.q}
            onChange={(e) => set({ q: e.target.value })}
            placeholder="e.g. checkout times out at the payment step"
            data-testid="search-input"
          />
          <button type="submit" className="btn btn-primary" disabled={!form.q.trim()} data-testid="search-submit">
            Search
          </button>
        </div>
        <div className="filters filters-wrap">
          <fieldset className="inline-checks">
            <legend>Sources</legend>
            <label>
              <input type="checkbox" checked={form.workItems} onChange={(e) => set({ workItems: e.target.checked })} data-testid="search-source-work-items" /> Work items
            </label>
            <label>
              <input type="checkbox" checked={form.pullRequests} onChange={(e) => set({ pullRequests: e.target.checked })} data-testid="search-source-prs" /> Pull requests
            </label>
          </fieldset>
          <label>
            Projects
            <input value={form.projects} onChange={(e) => set({ projects: e.target.value })} placeholder="ENG, OPS" data-testid="search-projects" />
          </label>
          <label>
            Types
            <input value={form.types} onChange={(e) => set({ types: e.target.value })} placeholder="Bug, Story" data-testid="search-types" />
          </label>
          <label>
            Statuses
            <input value={form.statuses} onChange={(e) => set({ statuses: e.target.value })} placeholder="In Progress" data-testid="search-statuses" />
          </label>
          <label>
            Updated from
            <input type="date" value={form.from} onChange={(e) => set({ from: e.target.value })} data-testid="search-from" />
          </label>
          <label>
            Updated to
            <input type="date" value={form.to} onChange={(e) => set({ to: e.target.value })} data-testid="search-to" />
          </label>
          <label>
            Results
            <input type="number" min={1} max={100} value={form.topK} onChange={(e) => set({ topK: e.target.value })} data-testid="search-top-k" />
          </label>
          <label className="toggle">
            <input type="checkbox" role="switch" checked={form.hybrid} onChange={(e) => set({ hybrid: e.target.checked })} data-testid="search-hybrid" /> Hybrid (full text +
            vectors)
          </label>
        </div>
      </form>

      {!applied.q.trim() && <Empty testId="search-idle">Type what you are looking for: search ranks work items and pull requests by meaning.</Empty>}
      {q.error !== undefined && <ErrorBox error={q.error} title="Search failed" onRetry={q.reload} />}
      {q.loading && <Loading label="Searching…" />}
      {q.data && !q.loading && (
        <>
          <p className="muted small" data-testid="search-meta">
            {q.data.results.length} result{q.data.results.length === 1 ? "" : "s"}
            {q.data.model && ` · model ${q.data.model}`}
            {applied.hybrid && " · hybrid (reciprocal rank fusion)"}
          </p>
          {q.data.results.length === 0 ? (
            <Empty testId="search-empty">Nothing matched. Try other words, fewer filters, or hybrid search.</Empty>
          ) : (
            <ol className="results" data-testid="search-results">
              {q.data.results.map((r) => {
                const path = workItemPath(r);
                return (
                  <li key={`${r.entityType}/${r.entityId}`} className="card result" data-testid="search-result" data-entity-type={r.entityType} data-key={r.key}>
                    <div className="result-head">
                      <Badge kind="info">{r.entityType === "work_item" ? "work item" : r.entityType === "pull_request" ? "pull request" : r.entityType}</Badge>
                      {path ? (
                        <Link to={path} className="result-title" data-testid="search-result-link">
                          <span className="mono">{r.key}</span> {r.title}
                        </Link>
                      ) : (
                        <span className="result-title">
                          <span className="mono">{r.key}</span> {r.title}
                        </span>
                      )}
                      <span className="score" title="Relevance score" data-testid="search-score">
                        {r.score.toFixed(4)}
                      </span>
                    </div>
                    {r.snippet && <p className="snippet">{r.snippet}</p>}
                    <div className="muted small">
                      {r.status && <>status {r.status} · </>}
                      {/^https?:\/\//.test(r.url) && (
                        <a href={r.url} target="_blank" rel="noreferrer" data-testid="search-result-external">
                          Open in {r.entityType === "pull_request" ? "GitHub" : "Jira"} ↗
                        </a>
                      )}
                    </div>
                  </li>
                );
              })}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
