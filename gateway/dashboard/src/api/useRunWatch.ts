import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useState } from "react";
import { RunStatus, type RunCounts } from "../gen/sluice/v1/common_pb";
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

function blank(runId: string): RunProgress {
  return {
    runId,
    jobId: "",
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

/**
 * Follows one run live: finds its job (GetJobRun), then watches that job (WatchJobs with
 * job_id, reconnecting with backoff) until the run ends.
 */
export function useRunWatch(runId: string | null): RunProgress | null {
  const [state, setState] = useState<RunProgress | null>(null);

  useEffect(() => {
    if (!runId) return;
    const controller = new AbortController();
    let stop: (() => void) | null = null;
    const update = (patch: Partial<RunProgress>) => setState((s) => ({ ...(s && s.runId === runId ? s : blank(runId)), ...patch }));

    api.jobs.getJobRun({ id: runId }, { signal: controller.signal }).then(
      (r) => {
        const run = r.run;
        if (!run || controller.signal.aborted) return;
        update({
          jobId: run.jobId,
          status: run.status,
          progress: run.progressPercentage,
          stepName: run.stepName,
          step: run.step,
          counts: run.counts,
          error: run.errorMessage,
          warning: run.warning,
        });
        if (isTerminal(run.status)) {
          update({ stream: { kind: "stopped" } });
          return;
        }
        stop = resilientStream({
          open: (signal) => api.jobs.watchJobs({ jobId: run.jobId }, { signal }),
          onMessage: (ev) => {
            if (ev.runId !== runId) return;
            update({
              status: ev.runStatus || RunStatus.RUNNING,
              progress: ev.progressPercentage,
              stepName: ev.stepName,
              step: ev.step,
              counts: ev.counts,
              error: ev.errorMessage,
              warning: ev.warning,
            });
            if (isTerminal(ev.runStatus)) {
              stop?.();
              update({ stream: { kind: "stopped" } });
            }
          },
          onState: (s) => {
            if (!controller.signal.aborted) update({ stream: s });
          },
          isFatal: (err) => err instanceof ConnectError && err.code === Code.Unauthenticated,
          describe: errorText,
        });
      },
      (err: unknown) => {
        if (!controller.signal.aborted) update({ lookupError: errorText(err), stream: { kind: "stopped" } });
      },
    );
    return () => {
      controller.abort();
      stop?.();
    };
  }, [runId]);

  return state && state.runId === runId ? state : runId ? blank(runId) : null;
}
