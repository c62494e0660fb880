import type { StreamState } from "../lib/backoff";

export function StreamIndicator({ state, testId = "stream-status" }: { state: StreamState; testId?: string }) {
  let text: string;
  switch (state.kind) {
    case "live":
      text = "Live";
      break;
    case "connecting":
      text = "Connecting…";
      break;
    case "retrying":
      text = `Reconnecting in ${Math.ceil(state.delayMs / 1000)} s (${state.error})`;
      break;
    case "stopped":
      text = `Updates stopped${state.error ? `: ${state.error}` : ""}`;
      break;
  }
  return (
    <span className={`stream stream-${state.kind}`} role="status" aria-live="polite" data-testid={testId} data-state={state.kind}>
      <span className="stream-dot" aria-hidden="true" />
      {text}
    </span>
  );
}
