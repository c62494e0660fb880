import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { JobStatus, RunStatus, type RunCounts } from "../gen/sluice/v1/common_pb";
import type { Job, JobEvent, JobRun } from "../gen/sluice/v1/job_pb";

/** What a job card shows: the job as listed, overlaid with the live events of its run. */
export interface JobView {
  job: Job;
  status: JobStatus;
  runId: string;
  runStatus: RunStatus;
  stepName: string;
  step: number;
  progress: number;
  counts: RunCounts | undefined;
  error: string;
  alert: string;
  warning: string;
  /** When the last event for this job arrived (ms since epoch), 0 if none. */
  eventAt: number;
  lastEventTime: Timestamp | undefined;
  /** The job's schedule: from the list or GetJob, then from every event (which carries it). */
  nextRunAt: Timestamp | undefined;
  lastRunStartedAt: Timestamp | undefined;
  lastRunFinishedAt: Timestamp | undefined;
}

function fromJob(job: Job, prev?: JobView): JobView {
  const sameRun = prev !== undefined && prev.runId !== "" && prev.runId === job.currentRunId;
  // Between runs the job names no current run: keep showing how the last one we saw ended.
  const keepRun = prev !== undefined && (sameRun || job.currentRunId === "");
  let runStatus = job.status === JobStatus.RUNNING ? RunStatus.RUNNING : RunStatus.UNSPECIFIED;
  if (keepRun) runStatus = prev.runStatus;
  return {
    job,
    status: job.status,
    runId: job.currentRunId || prev?.runId || "",
    runStatus,
    stepName: job.stepName || (sameRun ? (prev?.stepName ?? "") : ""),
    step: sameRun ? (prev?.step ?? 0) : 0,
    progress: job.progressPercentage,
    counts: prev?.counts,
    error: job.errorMessage,
    alert: job.alert,
    warning: prev?.warning ?? "",
    eventAt: prev?.eventAt ?? 0,
    lastEventTime: prev?.lastEventTime,
    nextRunAt: job.nextRunAt,
    lastRunStartedAt: job.lastRunStartedAt,
    lastRunFinishedAt: job.lastRunFinishedAt,
  };
}

export type Scheduler = (flush: () => void) => void;

const frameScheduler: Scheduler = (flush) => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(flush);
  else setTimeout(flush, 16);
};

/**
 * Jobs by id, updated by WatchJobs events. Each card subscribes to its own job, so an event
 * re-renders one card, not the list; notifications are coalesced to one per animation frame.
 */
export class JobsStore {
  private views = new Map<string, JobView>();
  private order: readonly string[] = [];
  /** The latest event of each job not known yet (the stream may open before the list). */
  private orphans = new Map<string, JobEvent>();
  private listedOnce = false;
  private jobListeners = new Map<string, Set<() => void>>();
  private listListeners = new Set<() => void>();
  private pending = new Set<string>();
  private listPending = false;
  private scheduled = false;
  private readonly schedule: Scheduler;

  constructor(schedule: Scheduler = frameScheduler) {
    this.schedule = schedule;
  }

  /** Replaces the list (ListJobs), keeping live state of jobs still present. */
  setJobs(jobs: readonly Job[]): void {
    const next = new Map<string, JobView>();
    for (const job of jobs) next.set(job.id, fromJob(job, this.views.get(job.id)));
    for (const id of next.keys()) this.pending.add(id);
    this.views = next;
    this.order = jobs.map((j) => j.id);
    this.listedOnce = true;
    this.adoptOrphans();
    this.listPending = true;
    this.kick();
  }

  /** True once a job list has been loaded. */
  get listed(): boolean {
    return this.listedOnce;
  }

  private adoptOrphans(): void {
    for (const [id, ev] of this.orphans) {
      if (this.views.has(id)) {
        this.orphans.delete(id);
        this.applyEvent(ev);
      }
    }
  }

  /** Adds or refreshes one job (GetJob, UpdateJob, PauseJob … answers). */
  upsertJob(job: Job): void {
    const known = this.views.has(job.id);
    this.views.set(job.id, fromJob(job, this.views.get(job.id)));
    this.pending.add(job.id);
    if (!known) {
      this.order = [...this.order, job.id];
      this.listPending = true;
      this.adoptOrphans();
    }
    this.kick();
  }

  removeJob(id: string): void {
    if (!this.views.delete(id)) return;
    this.order = this.order.filter((x) => x !== id);
    this.listPending = true;
    this.pending.add(id);
    this.kick();
  }

  /** A run just started (RunJob's answer): show it before its first event. */
  startRun(run: JobRun): void {
    const prev = this.views.get(run.jobId);
    if (!prev) return;
    this.views.set(run.jobId, {
      ...prev,
      status: JobStatus.RUNNING,
      runId: run.id,
      runStatus: run.status || RunStatus.RUNNING,
      stepName: run.stepName,
      step: run.step,
      progress: run.progressPercentage,
      counts: run.counts,
      error: run.errorMessage,
      warning: run.warning,
      lastRunStartedAt: run.startedAt ?? prev.lastRunStartedAt,
    });
    this.pending.add(run.jobId);
    this.kick();
  }

  /** Applies a WatchJobs event. Returns false when the job is unknown (fetch it, then upsert). */
  applyEvent(ev: JobEvent, now: number = Date.now()): boolean {
    const prev = this.views.get(ev.jobId);
    if (!prev) {
      this.orphans.set(ev.jobId, ev);
      return false;
    }
    const newRun = ev.runId !== "" && ev.runId !== prev.runId;
    this.views.set(ev.jobId, {
      ...prev,
      status: ev.jobStatus || prev.status,
      runId: ev.runId || prev.runId,
      runStatus: ev.runStatus || (newRun ? RunStatus.UNSPECIFIED : prev.runStatus),
      stepName: ev.stepName || (newRun ? "" : prev.stepName),
      step: ev.step || (newRun ? 0 : prev.step),
      progress: ev.progressPercentage,
      counts: ev.counts ?? (newRun ? undefined : prev.counts),
      error: ev.errorMessage,
      alert: ev.alert,
      warning: ev.warning,
      eventAt: now,
      lastEventTime: ev.at ?? prev.lastEventTime,
      // Events carry the job's schedule as of the event (unset = none, e.g. not scheduled).
      nextRunAt: ev.nextRunAt,
      lastRunStartedAt: ev.lastRunStartedAt,
      lastRunFinishedAt: ev.lastRunFinishedAt,
    });
    this.pending.add(ev.jobId);
    this.kick();
    return true;
  }

  get(id: string): JobView | undefined {
    return this.views.get(id);
  }

  ids(): readonly string[] {
    return this.order;
  }

  all(): JobView[] {
    return this.order.map((id) => this.views.get(id)).filter((v): v is JobView => v !== undefined);
  }

  subscribeJob(id: string, listener: () => void): () => void {
    let set = this.jobListeners.get(id);
    if (!set) {
      set = new Set();
      this.jobListeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.jobListeners.delete(id);
    };
  }

  subscribeList(listener: () => void): () => void {
    this.listListeners.add(listener);
    return () => {
      this.listListeners.delete(listener);
    };
  }

  /** Delivers pending notifications now (the scheduler calls it). */
  flush(): void {
    this.scheduled = false;
    const ids = [...this.pending];
    this.pending.clear();
    const list = this.listPending;
    this.listPending = false;
    for (const id of ids) for (const l of this.jobListeners.get(id) ?? []) l();
    if (list) for (const l of this.listListeners) l();
  }

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }
}
