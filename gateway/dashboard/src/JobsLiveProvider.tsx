import { Code, ConnectError } from "@connectrpc/connect";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Outlet } from "react-router";
import { api } from "./api/client";
import { errorText } from "./api/errors";
import { allPages, useQuery } from "./api/useQuery";
import { JobsLiveContext, type JobsLiveApi } from "./jobsLive";
import { resilientStream, type StreamState } from "./lib/backoff";
import { JobsStore } from "./lib/jobsStore";

/**
 * Loads the tenant's jobs once and keeps them current from one WatchJobs stream (no
 * polling), reconnecting with backoff when it drops. Pages under it read the store. Events
 * carry the job's status, run and schedule, so a known job is never asked for again; a job
 * the list did not have (created since) is fetched once.
 */
export function JobsLiveProvider() {
  const [store] = useState(() => new JobsStore());
  const [stream, setStream] = useState<StreamState>({ kind: "connecting" });

  const fetchList = useCallback(
    (signal: AbortSignal) =>
      allPages(async (pageToken) => {
        const r = await api.jobs.listJobs({ page: { pageSize: 500, pageToken } }, { signal });
        return { items: r.jobs, next: r.nextPageToken };
      }),
    [],
  );
  const list = useQuery(fetchList);
  const reloadList = list.reload;

  useEffect(() => {
    if (list.data) store.setJobs(list.data);
  }, [list.data, store]);

  useEffect(() => {
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    const fetchNew = (jobId: string) => {
      if (timers.has(jobId)) return;
      timers.set(
        jobId,
        setTimeout(() => {
          timers.delete(jobId);
          api.jobs.getJob({ id: jobId }).then(
            (r) => {
              if (r.job) store.upsertJob(r.job);
            },
            () => {
              // a deleted job: drop it
              store.removeJob(jobId);
            },
          );
        }, 250),
      );
    };
    let reconnecting = false;
    const stop = resilientStream({
      open: (signal) => api.jobs.watchJobs({}, { signal }),
      onMessage: (ev) => {
        // An unknown job after the list loaded is a new one: fetch it (its event is kept).
        if (!store.applyEvent(ev) && store.listed) fetchNew(ev.jobId);
      },
      onState: (s) => {
        if (s.kind === "live" && reconnecting) reloadList();
        reconnecting = s.kind === "retrying";
        setStream(s);
      },
      isFatal: (err) => err instanceof ConnectError && (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied),
      describe: errorText,
    });
    return () => {
      stop();
      for (const t of timers.values()) clearTimeout(t);
    };
  }, [store, reloadList]);

  const value = useMemo<JobsLiveApi>(
    () => ({ store, stream, listed: list.data !== undefined || list.error !== undefined, listError: list.error, reloadList }),
    [store, stream, list.data, list.error, reloadList],
  );
  return (
    <JobsLiveContext.Provider value={value}>
      <Outlet />
    </JobsLiveContext.Provider>
  );
}
