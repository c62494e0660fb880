import { useDeferredValue, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { JobCard } from "../components/JobCard";
import type { JobFilter } from "../lib/jobFilter";
import { StreamIndicator } from "../components/StreamIndicator";
import { Empty, ErrorBox, Loading } from "../components/ui";
import { useIntegrations } from "../integrations";
import { useJobIds, useJobsLive } from "../jobsLive";

const STATUSES = ["not_started", "ready", "running", "completed", "failed", "paused"];
const NO_IDS: readonly string[] = [];

export function JobsPage() {
  const { store, stream, listed, listError, reloadList } = useJobsLive();
  const ids = useJobIds(store);
  // The cards render in the background, in slices React interrupts to let frames and input
  // through: 200 cards rendered at once held the main thread for one long task (~50 ms of
  // CPU here). Live updates of a card do not wait for this (each card follows its own job).
  const shownIds = useDeferredValue(ids, NO_IDS);
  const { integrations } = useIntegrations();
  const [params] = useSearchParams();
  const [integrationId, setIntegrationId] = useState(() => params.get("integration") ?? "");
  const [status, setStatus] = useState("");
  const [text, setText] = useState("");
  const deferredText = useDeferredValue(text);
  const filter = useMemo<JobFilter>(() => ({ integrationId, status, text: deferredText }), [integrationId, status, deferredText]);

  return (
    <section className="page" aria-labelledby="jobs-title">
      <div className="page-head">
        <h1 id="jobs-title">Jobs</h1>
        <StreamIndicator state={stream} />
      </div>
      <div className="filters" role="search" aria-label="Filter jobs">
        <label>
          Integration
          <select value={integrationId} onChange={(e) => setIntegrationId(e.target.value)} data-testid="jobs-filter-integration">
            <option value="">All integrations</option>
            {integrations.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)} data-testid="jobs-filter-status">
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="jira_issues…" data-testid="jobs-filter-text" />
        </label>
        <span className="muted small">{ids.length} jobs</span>
      </div>
      {listError !== undefined && <ErrorBox error={listError} title="Could not list the jobs" onRetry={reloadList} />}
      {!listed && <Loading label="Loading jobs…" />}
      {listed && listError === undefined && ids.length === 0 && (
        <Empty>No jobs yet. Create an integration: its jobs appear here.</Empty>
      )}
      <div className="job-grid" data-testid="job-grid">
        {shownIds.map((id) => (
          <JobCard key={id} store={store} id={id} filter={filter} />
        ))}
      </div>
    </section>
  );
}
