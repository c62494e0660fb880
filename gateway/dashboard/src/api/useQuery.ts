import { useCallback, useEffect, useState } from "react";
import { isAbort } from "./errors";

interface State<T> {
  fetcher: unknown;
  version: number;
  data?: T;
  error?: unknown;
}

export interface QueryResult<T> {
  data: T | undefined;
  error: unknown;
  /** True until the current fetcher's first answer (and during a reload). */
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `fetcher` (memoize it with useCallback: a new fetcher is a new query) and keeps its
 * answer. `reload` runs it again, keeping the previous answer on screen meanwhile.
 */
export function useQuery<T>(fetcher: ((signal: AbortSignal) => Promise<T>) | null): QueryResult<T> {
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<State<T>>({ fetcher: null, version: -1 });

  useEffect(() => {
    if (fetcher === null) return;
    const controller = new AbortController();
    fetcher(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ fetcher, version, data });
      },
      (error: unknown) => {
        if (!controller.signal.aborted && !isAbort(error)) setState({ fetcher, version, error });
      },
    );
    return () => controller.abort();
  }, [fetcher, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const same = state.fetcher === fetcher;
  return {
    data: same ? state.data : undefined,
    error: same && state.version === version ? state.error : undefined,
    loading: fetcher !== null && !(same && state.version === version),
    reload,
  };
}

/** Every page of a paged list call. */
export async function allPages<T>(
  call: (pageToken: string) => Promise<{ items: T[]; next: string }>,
  maxPages = 100,
): Promise<T[]> {
  const out: T[] = [];
  let token = "";
  for (let i = 0; i < maxPages; i++) {
    const page = await call(token);
    out.push(...page.items);
    if (!page.next) break;
    token = page.next;
  }
  return out;
}
