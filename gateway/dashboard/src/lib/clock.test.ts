import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clockTimers, refreshPeriod, subscribeClock } from "./clock";

describe("clock", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("shares one timer per period among all subscribers and stops it after the last", () => {
    const counts = new Map<number, number>();
    const stops = Array.from({ length: 200 }, (_, i) => subscribeClock(15_000, () => counts.set(i, (counts.get(i) ?? 0) + 1)));
    expect(clockTimers()).toBe(1);
    vi.advanceTimersByTime(30_000);
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((c) => c === 2)).toBe(true);
    const other = subscribeClock(1_000, () => {});
    expect(clockTimers()).toBe(2);
    other();
    stops.forEach((s) => s());
    expect(clockTimers()).toBe(0);
  });

  it("redraws near times often and far ones rarely", () => {
    expect(refreshPeriod(-3_000)).toBe(1_000);
    expect(refreshPeriod(59_000)).toBe(1_000);
    expect(refreshPeriod(5 * 60_000)).toBe(15_000);
    expect(refreshPeriod(6 * 3_600_000)).toBe(300_000);
  });
});
