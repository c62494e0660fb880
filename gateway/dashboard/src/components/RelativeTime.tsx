import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { useCallback, useSyncExternalStore } from "react";
import { refreshPeriod, subscribeClock } from "../lib/clock";
import { formatRelative, toDate } from "../lib/format";

/**
 * "in 5 minutes", kept true as time passes: redrawn every second near the time, less often
 * further away, by timers shared with every other one on the page.
 */
export function RelativeTime({ ts }: { ts: Timestamp | undefined }) {
  const at = toDate(ts)?.getTime() ?? 0;
  const subscribe = useCallback(
    (changed: () => void) => {
      if (!at) return () => {};
      let unsubscribe = () => {};
      const arm = () => {
        const period = refreshPeriod(at - Date.now());
        unsubscribe = subscribeClock(period, () => {
          changed();
          if (refreshPeriod(at - Date.now()) !== period) {
            unsubscribe();
            arm();
          }
        });
      };
      arm();
      return () => unsubscribe();
    },
    [at],
  );
  const text = useSyncExternalStore(subscribe, () => (at ? formatRelative(new Date(at)) : ""));
  return text ? <>{text}</> : null;
}
