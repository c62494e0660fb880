/** Reconnect delays: 1 s, 2 s, 4 s … capped at 30 s, each ±20 % so clients do not stampede. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
  const jitter = 0.8 + 0.4 * random();
  return Math.round(base * jitter);
}

export type StreamState =
  | { kind: "connecting" }
  | { kind: "live" }
  | { kind: "retrying"; attempt: number; delayMs: number; error: string }
  | { kind: "stopped"; error?: string };

export interface ResilientStreamOptions<T> {
  /** Opens the stream; it ends by returning (the server closed it) or throwing. */
  open: (signal: AbortSignal) => AsyncIterable<T>;
  onMessage: (message: T) => void;
  onState?: (state: StreamState) => void;
  /** Errors after which retrying is pointless (e.g. the key was revoked). */
  isFatal?: (err: unknown) => boolean;
  describe?: (err: unknown) => string;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/**
 * Keeps a server stream open: reconnects with backoff whenever it ends or fails, and resets
 * the backoff once a message arrives. Returns a function that stops it for good.
 */
export function resilientStream<T>(opts: ResilientStreamOptions<T>): () => void {
  const controller = new AbortController();
  const signal = controller.signal;
  const sleep = opts.sleep ?? abortableSleep;
  const describe = opts.describe ?? ((e: unknown) => (e instanceof Error ? e.message : String(e)));

  void (async () => {
    let attempt = 0;
    while (!signal.aborted) {
      opts.onState?.({ kind: "connecting" });
      let error = "stream closed by the server";
      try {
        let first = true;
        for await (const message of opts.open(signal)) {
          if (signal.aborted) return;
          if (first) {
            first = false;
            attempt = 0;
            opts.onState?.({ kind: "live" });
          }
          opts.onMessage(message);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (opts.isFatal?.(err)) {
          opts.onState?.({ kind: "stopped", error: describe(err) });
          return;
        }
        error = describe(err);
      }
      if (signal.aborted) return;
      const delayMs = backoffDelay(attempt, opts.random);
      opts.onState?.({ kind: "retrying", attempt: attempt + 1, delayMs, error });
      attempt++;
      await sleep(delayMs, signal);
    }
  })();

  return () => {
    controller.abort();
  };
}
