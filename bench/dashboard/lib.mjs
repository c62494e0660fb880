// Shared by the dashboard benchmarks: Chromium, the JSON API, Chromium traces, statistics.
import { createRequire } from "node:module";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";

// playwright-core is a dependency of the dashboard (its e2e); resolve it from there.
const require = createRequire(new URL("../../gateway/dashboard/package.json", import.meta.url));
export const { chromium } = require("playwright-core");

export const BASE = (process.env.DASHBOARD_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
export const API_KEY = process.env.SLUICE_API_KEY ?? "";
export const SIMULATOR_URL = process.env.SIMULATOR_URL ?? "";
export const OUT_DIR = resolve(process.env.OUT_DIR ?? "target/bench-dashboard");

export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"];

export function launch() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}

/** The machine as the run found it (the benchmarks share it with whatever else runs). */
export function machine() {
  return { cpus: cpus().length, model: cpus()[0]?.model ?? "", loadavg: loadavg().map((x) => round(x, 2)) };
}

export function log(msg) {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

export function writeOut(name, data) {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, name);
  writeFileSync(path, typeof data === "string" || data instanceof Uint8Array ? data : JSON.stringify(data, null, 2));
  return path;
}

/** POST /sluice.v1.<Service>/<Method> with a JSON body (the gateway's HTTP/JSON API). */
export async function call(method, body = {}) {
  const r = await fetch(`${BASE}/sluice.v1.${method}`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method}: HTTP ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** Nearest-rank percentile of a list of numbers. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const round = (x, digits = 1) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

export async function signIn(page) {
  await page.goto(`${BASE}/`);
  await page.locator('[data-testid="api-key-input"]').fill(API_KEY);
  await page.locator('[data-testid="sign-in"]').click();
  await page.locator('[data-testid="tenant-name"]').waitFor();
}

/**
 * Records a Chromium trace (CDP Tracing on the browser target) around `fn`; returns the
 * trace events and whether Chromium reported losing any.
 */
export async function traced(browser, categories, fn) {
  const cdp = await browser.newBrowserCDPSession();
  const complete = new Promise((resolve) => cdp.once("Tracing.tracingComplete", resolve));
  await cdp.send("Tracing.start", {
    transferMode: "ReturnAsStream",
    streamFormat: "json",
    traceConfig: { recordMode: "recordAsMuchAsPossible", includedCategories: categories, excludedCategories: ["*"] },
  });
  let result;
  try {
    result = await fn();
  } finally {
    await cdp.send("Tracing.end");
  }
  const done = await complete;
  const chunks = [];
  for (;;) {
    const r = await cdp.send("IO.read", { handle: done.stream, size: 4 << 20 });
    chunks.push(r.base64Encoded ? Buffer.from(r.data, "base64") : Buffer.from(r.data));
    if (r.eof) break;
  }
  await cdp.send("IO.close", { handle: done.stream });
  await cdp.detach();
  const text = Buffer.concat(chunks).toString("utf8");
  const parsed = JSON.parse(text);
  const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
  return { result, events, raw: text, dataLoss: Boolean(done.dataLossOccurred) };
}

/**
 * The renderer main thread of the page at `origin` in a trace: its pid and tid. Found from
 * TracingStartedInBrowser's frame list, else the busiest CrRendererMain.
 */
export function rendererMain(events, origin) {
  const threadNames = new Map();
  for (const e of events) if (e.ph === "M" && e.name === "thread_name") threadNames.set(`${e.pid}:${e.tid}`, e.args?.name);
  const mains = [...threadNames].filter(([, n]) => n === "CrRendererMain").map(([k]) => k);
  const started = events.find((e) => e.name === "TracingStartedInBrowser");
  const frame = started?.args?.data?.frames?.find((f) => (f.url ?? "").startsWith(origin) && !f.parent);
  if (frame) {
    const key = mains.find((k) => k.startsWith(`${frame.processId}:`));
    if (key) return key;
  }
  const busy = new Map();
  for (const e of events) {
    const k = `${e.pid}:${e.tid}`;
    if (e.ph === "X" && mains.includes(k)) busy.set(k, (busy.get(k) ?? 0) + (e.dur ?? 0));
  }
  return [...busy].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/**
 * Top-level tasks of one thread (RunTask, as DevTools' performance panel counts them), in
 * ms on the trace clock.
 */
export function tasksOf(events, key) {
  const tasks = [];
  for (const e of events) {
    if (e.ph !== "X" || `${e.pid}:${e.tid}` !== key) continue;
    // dur: wall time; cpu: the thread's own CPU time (tdur), which excludes the time the OS
    // ran something else on the core (the services, on a shared 2-core machine).
    if (e.name === "RunTask" || e.name === "ThreadControllerImpl::RunTask") tasks.push({ start: e.ts / 1000, dur: (e.dur ?? 0) / 1000, cpu: (e.tdur ?? e.dur ?? 0) / 1000 });
  }
  // Nested RunTask events (a task within a task) count once: keep the outermost.
  tasks.sort((a, b) => a.start - b.start || b.dur - a.dur);
  const top = [];
  let end = -Infinity;
  for (const t of tasks) {
    if (t.start >= end) {
      top.push(t);
      end = t.start + t.dur;
    }
  }
  return top;
}

export function longTaskSummary(tasks) {
  const long = tasks.filter((t) => t.dur > 50);
  return {
    tasks: tasks.length,
    busyMs: round(tasks.reduce((s, t) => s + t.dur, 0)),
    cpuMs: round(tasks.reduce((s, t) => s + t.cpu, 0)),
    longTasks: long.length,
    over100: tasks.filter((t) => t.dur > 100).length,
    longestMs: round(tasks.reduce((m, t) => Math.max(m, t.dur), 0)),
    // Each long task as wall ms / its own CPU ms.
    longTaskMs: long.map((t) => `${round(t.dur)}/${round(t.cpu)}`),
    longByCpu: tasks.filter((t) => t.cpu > 50).length,
    longestCpuMs: round(tasks.reduce((m, t) => Math.max(m, t.cpu), 0)),
  };
}

export function intervalSummary(times) {
  const intervals = [];
  for (let i = 1; i < times.length; i++) intervals.push(times[i] - times[i - 1]);
  return {
    count: times.length,
    p50: round(percentile(intervals, 50)),
    p95: round(percentile(intervals, 95)),
    p99: round(percentile(intervals, 99)),
    max: round(intervals.reduce((m, x) => Math.max(m, x), 0)),
    over50: intervals.filter((x) => x > 50).length,
  };
}
