import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useState } from "react";
import { RunStatus, type RunCounts } from "../gen/sluice/v1/common_pb";
import type { JobRun } from "../gen/sluice/v1/job_pb";
import { resilientStream, type StreamState } from "../lib/backoff";
import { isTerminal } from "../lib/labels";
import { api } from "./client";
import { errorText } from "./errors";

export interface RunProgress {
  runId: string;
  jobId: string;
  status: RunStatus;
  progress: number;
  stepName: string;
  step: number;
  counts: RunCounts | undefined;
  error: string;
  warning: string;
  stream: StreamState;
  /** A failure to look the run up at all. */
  lookupError: string;
}

/** The run to follow: DiscoverCustomFields and Reprocess name its job along with it. */
export interface RunRef {
  runId: string;
  /** Empty from a server that does not say (then GetJobRun finds it). */
  jobId: string;
}

function blank(ref: RunRef): RunProgress {
  return {
    runId: ref.runId,
    jobId: ref.jobId,
    status: RunStatus.UNSPECIFIED,
    progress: 0,
    stepName: "",
    step: 0,
    counts: undefined,
    error: "",
    warning: "",
    stream: { kind: "connecting" },
    lookupError: "",
  };
}

function fromRun(run: JobRun): Partial<RunProgress> {
  return {
    jobId: run.jobId,
    status: run.status,
    progress: run.progressPercentage,
    stepName: run.stepName,
    step: run.step,
    counts: run.counts,
    error: run.errorMessage,
    warning: run.warning,
  };
}

/**
 * Follows one run live: watches its job (WatchJobs with job_id, reconnecting with backoff)
 * until the run ends. The stream opens with the job's current state; only when that names
 * another run (ours ended and a newer one started before we looked), or when the job is not
 * known, is the run itself asked for (GetJobRun).
 */
export function useRunWatch(ref: RunRef | null): RunProgress | null {
  const [state, setState] = useState<RunProgress | null>(null);
  const runId = ref?.runId ?? "";
  const knownJobId = ref?.jobId ?? "";

  useEffect(() => {
    if (!runId) return;
    const controller = new AbortController();
    let stop: (() => void) | null = null;
    const self: RunRef = { runId, jobId: knownJobId };
    const update = (patch: Partial<RunProgress>) => setState((s) => ({ ...(s && s.runId === runId ? s : blank(self)), ...patch }));
    const finish = () => {
      stop?.();
      stop = null;
      if (!controller.signal.aborted) update({ stream: { kind: "stopped" } });
    };
    const lookUp = () =>
      api.jobs.getJobRun({ id: runId }, { signal: controller.signal }).then(
        (r) => {
          if (!r.run || controller.signal.aborted) return null;
          update(fromRun(r.run));
          return r.run;
        },
        (err: unknown) => {
          if (!controller.signal.aborted) update({ lookupError: errorText(err), stream: { kind: "stopped" } });
          return null;
        },
      );

    const watch = (jobId: string) => {
      let checked = false;
      stop = resilientStream({
        open: (signal) => api.jobs.watchJobs({ jobId }, { signal }),
        onMessage: (ev) => {
          if (ev.runId !== runId) {
            // The opening snapshot shows the job's latest run: if that is not ours, ours
            // already ended (or has not been written yet): ask once how it ended.
            if (ev.snapshot && !checked) {
              checked = true;
              void lookUp().then((run) => {
                if (run && isTerminal(run.status)) finish();
              });
            }
            return;
          }
          update({
            status: ev.runStatus || RunStatus.RUNNING,
            progress: ev.progressPercentage,
            stepName: ev.stepName,
            step: ev.step,
            counts: ev.counts,
            error: ev.errorMessage,
            warning: ev.warning,
          });
          if (isTerminal(ev.runStatus)) finish();
        },
        onState: (s) => {
          if (!controller.signal.aborted && stop) update({ stream: s });
        },
        isFatal: (err) => err instanceof ConnectError && err.code === Code.Unauthenticated,
        describe: errorText,
      });
    };

    if (knownJobId) watch(knownJobId);
    else
      void lookUp().then((run) => {
        if (!run) return;
        if (isTerminal(run.status)) finish();
        else watch(run.jobId);
      });
    return () => {
      controller.abort();
      stop?.();
    };
  }, [runId, knownJobId]);

  return state && state.runId === runId ? state : ref ? blank(ref) : null;
}
