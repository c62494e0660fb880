import { memo, useState } from "react";
import { Link } from "react-router";
import { api } from "../api/client";
import { errorText } from "../api/errors";
import { JobStatus, JobType, RunStatus, type RunCounts } from "../gen/sluice/v1/common_pb";
import { integrationName, useIntegrations } from "../integrations";
import { useJobView } from "../jobsLive";
import { formatInt, formatTime, num, toDate } from "../lib/format";
import { matchesFilter, NO_FILTER, type JobFilter } from "../lib/jobFilter";
import type { JobsStore } from "../lib/jobsStore";
import { JIRA_STEPS, jobStatusLabel, jobStatusSlug, jobTypeLabel, jobTypeSlug, runStatusSlug, stepLabel } from "../lib/labels";
import { RelativeTime } from "./RelativeTime";
import { Badge, ProgressBar } from "./ui";

function Counts({ type, counts }: { type: JobType; counts: RunCounts | undefined }) {
  if (!counts) return <p className="counts muted">No counts yet</p>;
  const items: [string, bigint | number][] = [
    ["extracted", counts.recordsExtracted],
    ["transformed", counts.recordsTransformed],
    ["loaded", counts.recordsLoaded],
    ["API calls", counts.apiCalls],
  ];
  if (type === JobType.JIRA_ISSUES) items.push(["issues fetched", counts.issuesFetched], ["issues loaded", counts.issuesLoaded]);
  if (num(counts.devStatusIssues) > 0) items.push(["dev status fetched", counts.devStatusDone], ["issues with dev status", counts.devStatusIssues]);
  if (num(counts.throttledResponses) > 0) items.push(["429s", counts.throttledResponses]);
  if (type === JobType.GITHUB_SYNC) {
    items.push(["pull requests", counts.pullRequests], ["commits", counts.commits]);
    if (num(counts.graphqlPoints) > 0) items.push(["GraphQL points", counts.graphqlPoints]);
    if (counts.graphqlBudgetRemaining !== undefined) items.push(["GraphQL points left", counts.graphqlBudgetRemaining]);
    if (counts.restBudgetRemaining !== undefined) items.push(["REST requests left", counts.restBudgetRemaining]);
  }
  if (num(counts.errors) > 0) items.push(["errors", counts.errors]);
  if (num(counts.recordsQuarantined) > 0) items.push(["quarantined", counts.recordsQuarantined]);
  return (
    <dl className="counts" data-testid="job-counts">
      {items.map(([label, value]) => (
        <div key={label} className="count">
          <dt>{label}</dt>
          <dd data-count={label}>{formatInt(value)}</dd>
        </div>
      ))}
      {counts.projectedFinish && (
        <div className="count" title="The rate-limit budget runs out before the sync is done: it goes on as the budget refills.">
          <dt>budget out, projected finish</dt>
          <dd data-count="projected finish">{formatTime(counts.projectedFinish)}</dd>
        </div>
      )}
    </dl>
  );
}

function Steps({ step, active }: { step: number; active: boolean }) {
  return (
    <ol className="steps" aria-label="Jira steps">
      {JIRA_STEPS.map((name, i) => {
        const n = i + 1;
        const state = n < step || (!active && step >= 5) ? "done" : n === step ? (active ? "current" : "done") : "todo";
        return (
          <li key={name} className={`step step-${state}`} title={`${n}. ${name}`} aria-current={state === "current" ? "step" : undefined}>
            <span className="sr-only">
              {n}. {name} ({state})
            </span>
          </li>
        );
      })}
    </ol>
  );
}

type Action = "run" | "pause" | "resume" | "cancel";

/** One job, live. Memoized: it re-renders when its own job changes, not when others do. */
export const JobCard = memo(function JobCard({
  store,
  id,
  filter = NO_FILTER,
  showDetailsLink = true,
}: {
  store: JobsStore;
  id: string;
  filter?: JobFilter;
  showDetailsLink?: boolean;
}) {
  const view = useJobView(store, id);
  const integrations = useIntegrations();
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<string | null>(null);

  if (!view || !matchesFilter(view, filter)) return null;
  const { job } = view;
  const running = view.status === JobStatus.RUNNING || view.runStatus === RunStatus.RUNNING;
  const paused = view.status === JobStatus.PAUSED;
  const step = stepLabel(job.jobType, view.step, view.stepName);
  const started = toDate(view.lastRunStartedAt);
  const finished = toDate(view.lastRunFinishedAt);
  const finishedLast = finished !== null && (started === null || finished >= started);

  async function act(action: Action) {
    setBusy(action);
    setError(null);
    try {
      switch (action) {
        case "run": {
          const r = await api.jobs.runJob({ id });
          if (r.run) store.startRun(r.run);
          break;
        }
        case "pause": {
          const r = await api.jobs.pauseJob({ id });
          if (r.job) store.upsertJob(r.job);
          break;
        }
        case "resume": {
          const r = await api.jobs.resumeJob({ id });
          if (r.job) store.upsertJob(r.job);
          break;
        }
        case "cancel": {
          const r = await api.jobs.cancelJob({ id });
          if (r.job) store.upsertJob(r.job);
          break;
        }
      }
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <article
      className={`card job-card job-${jobStatusSlug(view.status)}`}
      data-testid="job-card"
      data-job-id={id}
      data-job-name={job.jobName}
      data-job-type={jobTypeSlug(job.jobType)}
      data-integration-id={job.integrationId}
      data-status={jobStatusSlug(view.status)}
      data-run-id={view.runId}
      data-run-status={runStatusSlug(view.runStatus)}
      data-next-run-at={toDate(view.nextRunAt)?.getTime() ?? ""}
      aria-label={`Job ${job.jobName}`}
    >
      <header className="card-head">
        <div>
          <h3 className="card-title">{job.jobName}</h3>
          <div className="muted small">
            {integrationName(integrations, job.integrationId)} · {jobTypeLabel(job.jobType)}
            {!job.active && " · inactive"}
          </div>
        </div>
        <Badge kind={jobStatusSlug(view.status)} testId="job-status">
          {jobStatusLabel(view.status)}
        </Badge>
      </header>

      <div className="step-line">
        <span data-testid="job-step">{step || (running ? "starting…" : "—")}</span>
        {view.step > 0 && job.jobType === JobType.JIRA_ISSUES && <span className="muted small"> · step {view.step} of 5</span>}
      </div>
      {job.jobType === JobType.JIRA_ISSUES && <Steps step={view.step} active={running} />}
      <ProgressBar value={view.progress} label={`${job.jobName} progress`} testId="job-progress" />
      <Counts type={job.jobType} counts={view.counts} />

      <dl className="times">
        <div>
          <dt>Last run</dt>
          <dd data-testid="job-last-run">
            {formatTime(view.lastRunStartedAt)}
            {/* While a run is under way the finish shown would be the previous run's. */}
            {finishedLast && <span className="muted"> → {formatTime(view.lastRunFinishedAt)}</span>}
          </dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd data-testid="job-next-run">
            {view.nextRunAt ? (
              <>
                {formatTime(view.nextRunAt)} (<RelativeTime ts={view.nextRunAt} />)
              </>
            ) : (
              "—"
            )}
          </dd>
        </div>
      </dl>

      {view.alert && (
        <div className="alert alert-warn" role="status" data-testid="job-alert">
          {view.alert}
        </div>
      )}
      {view.error && (
        <div className="alert alert-danger" data-testid="job-error">
          {view.error}
        </div>
      )}
      {view.warning && (
        <div className="alert alert-warn" data-testid="job-warning">
          {view.warning}
        </div>
      )}
      {error && (
        <div className="alert alert-danger" role="alert" data-testid="job-action-error">
          {error}
        </div>
      )}

      <div className="card-actions">
        <button type="button" className="btn btn-primary btn-small" onClick={() => void act("run")} disabled={busy !== null || running} data-testid="job-run">
          {busy === "run" ? "Starting…" : "Run now"}
        </button>
        {paused ? (
          <button type="button" className="btn btn-small" onClick={() => void act("resume")} disabled={busy !== null} data-testid="job-resume">
            Resume
          </button>
        ) : (
          <button type="button" className="btn btn-small" onClick={() => void act("pause")} disabled={busy !== null} data-testid="job-pause">
            Pause
          </button>
        )}
        <button type="button" className="btn btn-small" onClick={() => void act("cancel")} disabled={busy !== null || !running} data-testid="job-cancel">
          Cancel
        </button>
        {showDetailsLink && (
          <Link className="btn btn-small btn-link" to={`/jobs/${id}`} data-testid="job-details">
            Settings &amp; history
          </Link>
        )}
      </div>
    </article>
  );
});
