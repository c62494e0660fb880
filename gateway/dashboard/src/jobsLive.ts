import { createContext, useCallback, useContext, useSyncExternalStore } from "react";
import type { StreamState } from "./lib/backoff";
import type { JobsStore, JobView } from "./lib/jobsStore";

export interface JobsLiveApi {
  store: JobsStore;
  stream: StreamState;
  /** True once the job list has been loaded (or failed to). */
  listed: boolean;
  listError: unknown;
  reloadList: () => void;
}

export const JobsLiveContext = createContext<JobsLiveApi | null>(null);

export function useJobsLive(): JobsLiveApi {
  const ctx = useContext(JobsLiveContext);
  if (!ctx) throw new Error("useJobsLive outside JobsLiveProvider");
  return ctx;
}

/** One job's live view; re-renders only when that job changes. */
export function useJobView(store: JobsStore, id: string): JobView | undefined {
  const subscribe = useCallback((cb: () => void) => store.subscribeJob(id, cb), [store, id]);
  const get = useCallback(() => store.get(id), [store, id]);
  return useSyncExternalStore(subscribe, get);
}

export function useJobIds(store: JobsStore): readonly string[] {
  const subscribe = useCallback((cb: () => void) => store.subscribeList(cb), [store]);
  const get = useCallback(() => store.ids(), [store]);
  return useSyncExternalStore(subscribe, get);
}
