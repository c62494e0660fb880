/**
 * One timer per period for every subscriber (a page of 200 job cards shares one), so relative
 * times ("in 5 minutes") stay true without a timer per card.
 */
type Listener = () => void;

const groups = new Map<number, { timer: ReturnType<typeof setInterval>; listeners: Set<Listener> }>();

export function subscribeClock(periodMs: number, listener: Listener): () => void {
  let group = groups.get(periodMs);
  if (!group) {
    const listeners = new Set<Listener>();
    const timer = setInterval(() => {
      for (const l of [...listeners]) l();
    }, periodMs);
    group = { timer, listeners };
    groups.set(periodMs, group);
  }
  group.listeners.add(listener);
  const g = group;
  return () => {
    g.listeners.delete(listener);
    if (g.listeners.size === 0) {
      clearInterval(g.timer);
      groups.delete(periodMs);
    }
  };
}

/** How often a relative time that far away (ms, either way) needs redrawing. */
export function refreshPeriod(distanceMs: number): number {
  const d = Math.abs(distanceMs);
  if (d < 60_000) return 1_000;
  if (d < 3_600_000) return 15_000;
  return 300_000;
}

/** Active timers (tests). */
export function clockTimers(): number {
  return groups.size;
}
