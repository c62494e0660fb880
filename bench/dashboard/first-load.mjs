#!/usr/bin/env node
// First load of the dashboard: what a browser with an empty cache downloads to show the
// sign-in page, and how long until that page is interactive. Median of RUNS (5) runs, each in
// a freshly launched Chromium (empty HTTP cache, no code cache), after one discarded warm-up.
//
// Bytes: every response of the load (document, scripts, styles, icon), as transferred
// (CDP Network.loadingFinished encodedDataLength: headers + body as sent, gzip'd where the
// gateway has a .gz sibling) and, for comparison, their decoded size.
//
// Time to interactive (TTI), on the page's clock from navigation start (performance.timeOrigin):
// the first moment T at or after the sign-in form's API key input is in the DOM and enabled
// such that the 500 ms from T on hold no long task (> 50 ms, PerformanceObserver "longtask")
// and no request in flight (Resource Timing). The same rule as Lighthouse's TTI with a 500 ms
// quiet window instead of 5 s (the page is small and makes no request after it loads).
//
//   DASHBOARD_URL=http://127.0.0.1:8080 node bench/dashboard/first-load.mjs
import { BASE, launch, log, machine, median, round, writeOut } from "./lib.mjs";

const RUNS = Number(process.env.RUNS ?? 5);
const QUIET_MS = 500;

const probe = `
  window.__bench = { longTasks: [], inputReady: null };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__bench.longTasks.push({ start: e.startTime, dur: e.duration });
    }).observe({ type: "longtask", buffered: true });
  } catch {}
  const check = () => {
    const el = document.querySelector('[data-testid="api-key-input"]');
    if (el && !el.disabled && window.__bench.inputReady === null) {
      window.__bench.inputReady = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, attributes: true });
`;

/** First T ≥ from such that [T, T + QUIET_MS) overlaps no busy interval. */
function quietFrom(from, busy) {
  let t = from;
  for (let moved = true; moved; ) {
    moved = false;
    for (const b of busy) {
      if (b.start < t + QUIET_MS && b.end > t) {
        t = b.end;
        moved = true;
      }
    }
  }
  return t;
}

async function once() {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(probe);
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
    const requests = new Map();
    cdp.on("Network.requestWillBeSent", (e) => requests.set(e.requestId, { url: e.request.url, type: e.type }));
    cdp.on("Network.responseReceived", (e) => {
      const r = requests.get(e.requestId);
      if (!r) return;
      const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      r.status = e.response.status;
      r.encoding = h["content-encoding"] ?? "";
      r.fromCache = e.response.fromDiskCache || e.response.fromPrefetchCache || false;
    });
    cdp.on("Network.loadingFinished", (e) => {
      const r = requests.get(e.requestId);
      if (r) r.transferred = e.encodedDataLength;
    });

    await page.goto(`${BASE}/`, { waitUntil: "load" });
    await page.waitForFunction(() => window.__bench.inputReady !== null, undefined, { timeout: 30_000 });
    // Wait out the quiet window (longer if a long task or request lands in it).
    let tti = 0;
    for (;;) {
      const s = await page.evaluate(() => ({
        now: performance.now(),
        inputReady: window.__bench.inputReady,
        longTasks: window.__bench.longTasks,
        resources: performance.getEntriesByType("resource").map((r) => ({ start: r.startTime, end: r.responseEnd || performance.now() })),
      }));
      const busy = [...s.longTasks.map((t) => ({ start: t.start, end: t.start + t.dur })), ...s.resources];
      tti = quietFrom(s.inputReady, busy);
      if (s.now >= tti + QUIET_MS + 100) break;
      await page.waitForTimeout(tti + QUIET_MS + 150 - s.now);
    }
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const paint = Object.fromEntries(performance.getEntriesByType("paint").map((p) => [p.name, p.startTime]));
      const resources = [nav, ...performance.getEntriesByType("resource")].map((r) => ({
        url: r.name,
        encodedBody: r.encodedBodySize,
        decodedBody: r.decodedBodySize,
      }));
      return {
        ttfb: nav.responseStart,
        domContentLoaded: nav.domContentLoadedEventEnd,
        load: nav.loadEventEnd,
        fcp: paint["first-contentful-paint"] ?? NaN,
        inputReady: window.__bench.inputReady,
        longTasks: window.__bench.longTasks,
        resources,
      };
    });
    const files = [...requests.values()]
      .filter((r) => r.url.startsWith(BASE))
      .map((r) => {
        const rt = timing.resources.find((x) => x.url === r.url);
        return {
          path: new URL(r.url).pathname,
          status: r.status,
          encoding: r.encoding || "identity",
          transferred: r.transferred ?? 0,
          body: rt?.encodedBody ?? 0,
          decoded: rt?.decodedBody ?? 0,
          fromCache: r.fromCache,
        };
      });
    return {
      tti,
      ...timing,
      resources: undefined,
      files,
      transferred: files.reduce((s, f) => s + f.transferred, 0),
      body: files.reduce((s, f) => s + f.body, 0),
      decoded: files.reduce((s, f) => s + f.decoded, 0),
    };
  } finally {
    await browser.close();
  }
}

const before = machine();
log(`first load of ${BASE}/: 1 warm-up + ${RUNS} runs, a fresh Chromium each (load average ${before.loadavg.join(" ")})`);
const chromiumVersion = await launch().then(async (b) => {
  const v = b.version();
  await b.close();
  return v;
});
await once();
const runs = [];
for (let i = 0; i < RUNS; i++) {
  const r = await once();
  runs.push(r);
  log(
    `run ${i + 1}: ${r.files.length} files, ${r.transferred} B transferred (${r.decoded} B decoded); FCP ${round(r.fcp)} ms, input ready ${round(r.inputReady)} ms, TTI ${round(r.tti)} ms, ${r.longTasks.length} long task(s)${r.longTasks.length ? ` (${r.longTasks.map((t) => round(t.dur)).join(", ")} ms)` : ""}`,
  );
}
const m = (k) => round(median(runs.map((r) => r[k])));
const summary = {
  url: `${BASE}/`,
  chromium: chromiumVersion,
  machine: { ...before, loadavgAfter: machine().loadavg },
  runs: runs.length,
  files: runs[0].files.map((f) => ({ ...f, fromCache: undefined })),
  transferredBytes: m("transferred"),
  bodyBytes: m("body"),
  decodedBytes: m("decoded"),
  medianMs: { ttfb: m("ttfb"), fcp: m("fcp"), domContentLoaded: m("domContentLoaded"), load: m("load"), inputReady: m("inputReady"), tti: m("tti") },
  ttiMs: runs.map((r) => round(r.tti)),
  longTasksPerRun: runs.map((r) => r.longTasks.map((t) => round(t.dur))),
  cachedResponses: runs.reduce((s, r) => s + r.files.filter((f) => f.fromCache).length, 0),
};
const path = writeOut("first-load.json", summary);
console.log("\nFirst load (median of %d, cold cache):", runs.length);
console.table(summary.files.map((f) => ({ path: f.path, encoding: f.encoding, transferred: f.transferred, decoded: f.decoded })));
console.log(`transferred ${summary.transferredBytes} B (bodies ${summary.bodyBytes} B), decoded ${summary.decodedBytes} B`);
console.log(
  `TTFB ${summary.medianMs.ttfb} ms · FCP ${summary.medianMs.fcp} ms · DOMContentLoaded ${summary.medianMs.domContentLoaded} ms · load ${summary.medianMs.load} ms · input ready ${summary.medianMs.inputReady} ms · TTI ${summary.medianMs.tti} ms (runs: ${summary.ttiMs.join(", ")})`,
);
console.log(`→ ${path}`);
