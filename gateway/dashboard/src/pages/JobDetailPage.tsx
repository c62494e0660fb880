import { Code } from "@connectrpc/connect";
import { createColumnHelper } from "@tanstack/react-table";
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, Navigate, useParams, useSearchParams } from "react-router";
import { api } from "../api/client";
import { errorText, toApiError } from "../api/errors";
import { useQuery } from "../api/useQuery";
import { DataTable } from "../components/DataTable";
import { JobCard } from "../components/JobCard";
import { RunChart } from "../components/RunChart";
import { StreamIndicator } from "../components/StreamIndicator";
import { Badge, Empty, ErrorBox, Field, Loading } from "../components/ui";
import type { Job, JobRun } from "../gen/sluice/v1/job_pb";
import { useJobView, useJobsLive } from "../jobsLive";
import { DEFAULT_CONFIG, loadConfig, traceUrl, type DashboardConfig } from "../lib/config";
import { parseFieldError } from "../lib/fieldErrors";
import { formatBytes, formatDuration, formatInt, formatRate, formatTime } from "../lib/format";
import type { JobsStore } from "../lib/jobsStore";
import { isTerminal, jobTypeSlug, runStatusSlug } from "../lib/labels";

function useDashboardConfig(): DashboardConfig {
  const q = useQuery(useCallback(() => loadConfig(), []));
  return q.data ?? DEFAULT_CONFIG;
}

const SETTINGS = [
  { key: "scheduleIntervalMinutes", path: "schedule_interval_minutes", label: "Schedule interval (minutes)" },
  { key: "retryIntervalMinutes", path: "retry_interval_minutes", label: "Retry interval (minutes)" },
  { key: "priority", path: "priority", label: "Priority (lower runs first)" },
  { key: "maxRetries", path: "max_retries", label: "Max retries" },
] as const;

type NumberKey = (typeof SETTINGS)[number]["key"];

function JobSettingsForm({ job, store }: { job: Job; store: JobsStore }) {
  const [values, setValues] = useState<Record<NumberKey, string>>(() => ({
    scheduleIntervalMinutes: String(job.scheduleIntervalMinutes),
    retryIntervalMinutes: String(job.retryIntervalMinutes),
    priority: String(job.priority),
    maxRetries: String(job.maxRetries),
  }));
  const [dependsOn, setDependsOn] = useState(job.dependsOn);
  const [active, setActive] = useState(job.active);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const siblings = store.all().filter((v) => v.job.integrationId === job.integrationId && v.job.id !== job.id);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    setFieldErrors({});
    setFormError(null);
    const errors: Record<string, string> = {};
    const patch: { id: string } & Partial<Record<NumberKey, number>> & { dependsOn?: string; active?: boolean } = { id: job.id };
    for (const s of SETTINGS) {
      const raw = values[s.key].trim();
      if (!/^-?\d+$/.test(raw)) {
        errors[s.path] = "a whole number is required";
        continue;
      }
      const n = Number(raw);
      if (n !== job[s.key]) patch[s.key] = n;
    }
    if (dependsOn !== job.dependsOn) patch.dependsOn = dependsOn;
    if (active !== job.active) patch.active = active;
    if (Object.keys(errors).length > 0) {
      setFieldErrors(errors);
      setBusy(false);
      return;
    }
    try {
      const r = await api.jobs.updateJob(patch);
      if (r.job) store.upsertJob(r.job);
      setSaved(true);
    } catch (err) {
      const ae = toApiError(err);
      const fe = ae.code === Code.InvalidArgument ? parseFieldError(ae.message) : null;
      const known = fe && [...SETTINGS.map((s) => s.path), "depends_on", "active"].find((p) => fe.path === p || fe.path.startsWith(`${p}.`));
      if (fe && known) setFieldErrors({ [known]: fe.message });
      else setFormError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} data-testid="job-settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Schedule &amp; retries</h2>
      <div className="form-grid">
        {SETTINGS.map((s) => (
          <Field key={s.key} label={s.label} htmlFor={`job-${s.path}`} error={fieldErrors[s.path]}>
            <input
              id={`job-${s.path}`}
              inputMode="numeric"
              value={values[s.key]}
              onChange={(e) => setValues((v) => ({ ...v, [s.key]: e.target.value }))}
              data-testid={`job-setting-${s.path}`}
            />
          </Field>
        ))}
        <Field label="Depends on" htmlFor="job-depends_on" error={fieldErrors.depends_on} hint="Waits for this job's completed run in the same cycle.">
          <select id="job-depends_on" value={dependsOn} onChange={(e) => setDependsOn(e.target.value)} data-testid="job-setting-depends_on">
            <option value="">Nothing</option>
            {siblings.map((v) => (
              <option key={v.job.id} value={v.job.id}>
                {v.job.jobName} ({jobTypeSlug(v.job.jobType)})
              </option>
            ))}
            {dependsOn && !siblings.some((v) => v.job.id === dependsOn) && <option value={dependsOn}>{dependsOn}</option>}
          </select>
        </Field>
        <div className="field field-check">
          <label>
            <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} data-testid="job-setting-active" /> Active (scheduled)
          </label>
          {fieldErrors.active && <div className="field-error">{fieldErrors.active}</div>}
        </div>
      </div>
      {formError && (
        <div className="alert alert-danger" role="alert" data-testid="job-settings-error">
          {formError}
        </div>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="job-settings-save">
          {busy ? "Saving…" : "Save"}
        </button>
        {saved && (
          <span className="ok" role="status" data-testid="job-settings-saved">
            Saved
          </span>
        )}
      </div>
    </form>
  );
}

const col = createColumnHelper<JobRun>();

function RunHistory({ jobId, runKey, highlight }: { jobId: string; runKey: string; highlight: string | null }) {
  const config = useDashboardConfig();
  const [extraPages, setExtraPages] = useState<{ key: string; runs: JobRun[]; next: string } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const fetcher = useCallback(
    // runKey changes when a run starts or ends: the history is fetched again then.
    async (signal: AbortSignal) => {
      const r = await api.jobs.listJobRuns({ jobId, page: { pageSize: 50 } }, { signal });
      return { runs: r.runs, next: r.nextPageToken, key: `${jobId}|${runKey}` };
    },
    [jobId, runKey],
  );
  const q = useQuery(fetcher);
  const base = q.data;
  const extra = extraPages && base && extraPages.key === base.key ? extraPages : null;
  const runs = useMemo(() => [...(base?.runs ?? []), ...(extra?.runs ?? [])], [base, extra]);
  const next = extra ? extra.next : (base?.next ?? "");

  async function loadMore() {
    if (!base) return;
    try {
      const r = await api.jobs.listJobRuns({ jobId, page: { pageSize: 50, pageToken: next } });
      setExtraPages({ key: base.key, runs: [...(extra?.runs ?? []), ...r.runs], next: r.nextPageToken });
    } catch (err) {
      setMoreError(err);
    }
  }

  const columns = useMemo(
    () => [
      col.accessor("startedAt", { header: "Started", cell: (c) => formatTime(c.getValue()) }),
      col.accessor("trigger", { header: "Trigger" }),
      col.accessor("status", {
        header: "Status",
        cell: (c) => (
          <Badge kind={runStatusSlug(c.getValue())} testId="run-status">
            {runStatusSlug(c.getValue())}
          </Badge>
        ),
      }),
      col.accessor("durationMs", { header: "Duration", cell: (c) => formatDuration(c.getValue()) }),
      col.accessor((r) => r.counts?.recordsExtracted ?? 0n, { id: "extracted", header: "Extracted", cell: (c) => formatInt(c.getValue()) }),
      col.accessor((r) => r.counts?.recordsTransformed ?? 0n, { id: "transformed", header: "Transformed", cell: (c) => formatInt(c.getValue()) }),
      col.accessor((r) => r.counts?.recordsLoaded ?? 0n, { id: "loaded", header: "Loaded", cell: (c) => formatInt(c.getValue()) }),
      col.accessor((r) => r.counts?.apiCalls ?? 0n, { id: "api", header: "API calls", cell: (c) => formatInt(c.getValue()) }),
      col.accessor((r) => r.counts?.peakRequestRate ?? 0, { id: "rate", header: "Peak requests/s", cell: (c) => formatRate(c.getValue()) }),
      col.accessor((r) => r.counts?.throttledResponses ?? 0n, { id: "throttled", header: "429s", cell: (c) => formatInt(c.getValue()) }),
      col.accessor((r) => r.counts?.rateLimitWaitMs ?? 0n, { id: "ratelimit", header: "Rate-limit wait", cell: (c) => formatDuration(c.getValue()) }),
      col.accessor((r) => r.counts?.bytesReceived ?? 0n, { id: "received", header: "Received", cell: (c) => formatBytes(c.getValue()) }),
      col.accessor((r) => r.counts?.peakMemoryBytes ?? 0n, { id: "memory", header: "Peak memory", cell: (c) => formatBytes(c.getValue()) }),
      col.accessor((r) => r.counts?.errors ?? 0n, { id: "errors", header: "Errors", cell: (c) => formatInt(c.getValue()) }),
      col.display({
        id: "notes",
        header: "Error / warning",
        cell: (c) => {
          const r = c.row.original;
          return (
            <div className="cell-notes">
              {r.errorMessage && <div className="text-danger">{r.errorMessage}</div>}
              {r.warning && (
                <div className="text-warn" data-testid="run-warning">
                  {r.warning}
                </div>
              )}
              {r.alert && <div className="text-warn">{r.alert}</div>}
            </div>
          );
        },
      }),
      col.accessor("traceId", {
        header: "Trace",
        cell: (c) => {
          const url = traceUrl(config, c.getValue());
          return url ? (
            <a href={url} target="_blank" rel="noreferrer" data-testid="run-trace" className="mono">
              {c.getValue().slice(0, 12)}…
            </a>
          ) : (
            "—"
          );
        },
      }),
    ],
    [config],
  );

  return (
    <section className="card" aria-labelledby="history-title" data-testid="run-history">
      <h2 id="history-title">Run history</h2>
      {q.error !== undefined && <ErrorBox error={q.error} title="Could not list the runs" onRetry={q.reload} />}
      {q.loading && !base && <Loading label="Loading runs…" />}
      {base && (
        <>
          <RunChart runs={runs} />
          <DataTable
            data={runs}
            columns={columns}
            getRowId={(r) => r.id}
            caption="Runs, newest first"
            rowTestId="run-row"
            rowAttributes={(r) => ({
              "data-run-id": r.id,
              "data-status": runStatusSlug(r.status),
              className: r.id === highlight ? "row-highlight" : undefined,
            })}
            empty={<Empty>This job has not run yet.</Empty>}
          />
          {next && (
            <button type="button" className="btn" onClick={() => void loadMore()} data-testid="runs-more">
              Older runs
            </button>
          )}
          {moreError !== undefined && <ErrorBox error={moreError} title="Could not load older runs" />}
        </>
      )}
    </section>
  );
}

export function JobDetailPage() {
  const { jobId = "" } = useParams();
  const [params] = useSearchParams();
  const { store, stream, listed, listError } = useJobsLive();
  const view = useJobView(store, jobId);
  const highlight = params.get("run");
  const runKey = view ? `${view.runId}:${isTerminal(view.runStatus) ? "done" : "open"}` : "";

  // A job created after the list was loaded: ask for it.
  const missing = listed && !view;
  const fetchJob = useCallback(
    async (signal: AbortSignal) => {
      const job = (await api.jobs.getJob({ id: jobId }, { signal })).job;
      if (!job) throw new Error(`job ${jobId} not found`);
      return job;
    },
    [jobId],
  );
  const one = useQuery(missing ? fetchJob : null);
  useEffect(() => {
    if (one.data) store.upsertJob(one.data);
  }, [one.data, store]);

  if (listError !== undefined && !view) return <ErrorBox error={listError} title="Could not load the jobs" />;
  if (!view) {
    if (one.error !== undefined) {
      const notFound = toApiError(one.error).code === Code.NotFound;
      return (
        <section className="page">
          <h1>Job</h1>
          <ErrorBox error={one.error} title={notFound ? "No such job" : "Could not load the job"} />
        </section>
      );
    }
    return <Loading label="Loading the job…" />;
  }

  return (
    <section className="page" aria-labelledby="job-title">
      <div className="page-head">
        <h1 id="job-title">
          <Link to="/jobs" className="crumb">
            Jobs
          </Link>{" "}
          / {view.job.jobName}
        </h1>
        <StreamIndicator state={stream} />
      </div>
      <div className="detail-grid">
        <JobCard store={store} id={jobId} showDetailsLink={false} />
        <JobSettingsForm key={`${view.job.id}`} job={view.job} store={store} />
      </div>
      <RunHistory jobId={jobId} runKey={runKey} highlight={highlight} />
    </section>
  );
}

/** /runs/:runId → the run's job, with the run highlighted. */
export function RunRedirect() {
  const { runId = "" } = useParams();
  const fetcher = useCallback(
    async (signal: AbortSignal) => {
      const run = (await api.jobs.getJobRun({ id: runId }, { signal })).run;
      if (!run) throw new Error(`run ${runId} not found`);
      return run;
    },
    [runId],
  );
  const q = useQuery(fetcher);
  if (q.error !== undefined) return <ErrorBox error={q.error} title="Could not find the run" />;
  if (!q.data) return <Loading label="Finding the run…" />;
  return <Navigate to={`/jobs/${q.data.jobId}?run=${encodeURIComponent(runId)}`} replace />;
}
