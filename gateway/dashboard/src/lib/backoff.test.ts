import { describe, expect, it } from "vitest";
import { backoffDelay, resilientStream, type StreamState } from "./backoff";

describe("backoff", () => {
  it("doubles up to 30 s", () => {
    const mid = () => 0.5;
    expect(backoffDelay(0, mid)).toBe(1000);
    expect(backoffDelay(1, mid)).toBe(2000);
    expect(backoffDelay(4, mid)).toBe(16000);
    expect(backoffDelay(5, mid)).toBe(30000);
    expect(backoffDelay(20, mid)).toBe(30000);
  });

  it("jitters by ±20 %", () => {
    expect(backoffDelay(0, () => 0)).toBe(800);
    expect(backoffDelay(0, () => 1)).toBe(1200);
  });
});

describe("resilientStream", () => {
  it("reconnects after failures and resets the backoff after a message", async () => {
    const delays: number[] = [];
    const states: StreamState["kind"][] = [];
    const got: number[] = [];
    let opened = 0;
    let stop: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      stop = resilientStream<number>({
        open: async function* () {
          opened++;
          if (opened === 1) throw new Error("connection refused");
          if (opened === 2) throw new Error("still down");
          if (opened === 3) {
            yield 1;
            yield 2;
            throw new Error("dropped");
          }
          yield 3;
          resolve();
          await new Promise(() => {});
        },
        onMessage: (m) => got.push(m),
        onState: (s) => states.push(s.kind),
        sleep: async (ms) => {
          delays.push(ms);
          await Promise.resolve();
        },
        random: () => 0.5,
      });
    });
    await finished;
    stop();
    expect(got).toEqual([1, 2, 3]);
    // Two failures back off 1 s then 2 s; after messages arrived the next retry starts at 1 s.
    expect(delays).toEqual([1000, 2000, 1000]);
    expect(states.filter((s) => s === "live")).toHaveLength(2);
  });

  it("stops on a fatal error", async () => {
    const states: StreamState[] = [];
    await new Promise<void>((resolve) => {
      resilientStream<number>({
        // eslint-disable-next-line require-yield
        open: async function* () {
          await Promise.resolve();
          throw new Error("unauthenticated");
        },
        onMessage: () => {},
        onState: (s) => {
          states.push(s);
          if (s.kind === "stopped") resolve();
        },
        isFatal: () => true,
      });
    });
    expect(states.at(-1)).toEqual({ kind: "stopped", error: "unauthenticated" });
  });
});
