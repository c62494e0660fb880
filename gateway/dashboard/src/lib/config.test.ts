import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, parseConfig, traceUrl } from "./config";

describe("dashboard config", () => {
  it("falls back to the Jaeger default", () => {
    expect(parseConfig(null)).toEqual(DEFAULT_CONFIG);
    expect(parseConfig({ traceUrlTemplate: 5 })).toEqual(DEFAULT_CONFIG);
    expect(parseConfig({ traceUrlTemplate: "http://x/no-placeholder" })).toEqual(DEFAULT_CONFIG);
  });

  it("fills the trace id in", () => {
    const c = parseConfig({ traceUrlTemplate: "https://grafana.example/explore?trace={trace_id}&x={trace_id}" });
    expect(traceUrl(c, "16bde16226a01c3bbd2fa6462849ef7d")).toBe(
      "https://grafana.example/explore?trace=16bde16226a01c3bbd2fa6462849ef7d&x=16bde16226a01c3bbd2fa6462849ef7d",
    );
    expect(traceUrl(DEFAULT_CONFIG, "ed0e1107b6674af5a74e1d3bbbfc9120")).toBe(
      "http://localhost:16686/trace/ed0e1107b6674af5a74e1d3bbbfc9120",
    );
    expect(traceUrl(c, "")).toBeNull();
    expect(traceUrl(c, "not a trace")).toBeNull();
  });
});
