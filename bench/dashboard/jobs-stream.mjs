#!/usr/bin/env node
// The jobs page with JOBS (200) jobs while SYNCS (5) Jira syncs stream their progress into it:
// long tasks and frame intervals of the page's renderer main thread, from a Chromium trace.
//
// 1. Creates Jira integrations against the simulator (two jobs each: discovery and issues)
//    until the tenant has JOBS jobs (HTTP/JSON API).
// 2. Signs in, opens /jobs under a trace and waits for every card and the live stream (the
//    page's own load, reported apart).
// 3. Starts a requestAnimationFrame loop in the page (so the trace holds a frame request every
//    vsync: its intervals show how soon the main thread can serve one), starts tracing, waits
//    2 s, starts SYNCS jira_issues runs (RunJob) at once, waits until every run has ended and
//    its card says so, waits 1 s, stops tracing.
// 4. From the trace, on the page's renderer main thread (CrRendererMain): top-level tasks
//    (RunTask; long = over 50 ms), the intervals between animation frames fired
//    (FireAnimationFrame), and the page compositor's frames (PipelineReporter: presented,
//    dropped, or nothing to update).
//
//   DASHBOARD_URL=… SLUICE_API_KEY=… SIMULATOR_URL=… node bench/dashboard/jobs-stream.mjs
import { gzipSync } from "node:zlib";
import {
  API_KEY,
  BASE,
  SIMULATOR_URL,
  call,
  intervalSummary,
  launch,
  log,
  longTaskSummary,
  machine,
  rendererMain,
  round,
  signIn,
  tasksOf,
  traced,
  writeOut,
} from "./lib.mjs";

const JOBS = Number(process.env.JOBS ?? 200);
const SYNCS = Number(process.env.SYNCS ?? 5);
const TIMEOUT_MS = Number(process.env.SYNC_TIMEOUT_MS ?? 600_000);
const CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "disabled-by-default-devtools.timeline.frame",
  "toplevel",
  "blink.user_timing",
];

if (!API_KEY || !SIMULATOR_URL) {
  console.error("jobs-stream: SLUICE_API_KEY and SIMULATOR_URL are required");
  process.exit(2);
}

async function listJobs() {
  const jobs = [];
  let pageToken = "";
  do {
    const r = await call("JobService/ListJobs", { page: { pageSize: 500, pageToken } });
    jobs.push(...(r.jobs ?? []));
    pageToken = r.nextPageToken ?? "";
  } while (pageToken);
  return jobs;
}

const before = machine();
// 1. The jobs.
let jobs = await listJobs();
const stamp = Date.now().toString(36);
let created = 0;
while (jobs.length + 2 * created < JOBS) {
  created++;
  await call("IntegrationService/CreateIntegration", {
    type: "INTEGRATION_TYPE_JIRA",
    name: `bench-jira-${stamp}-${String(created).padStart(3, "0")}`,
    baseUrl: SIMULATOR_URL,
    credentials: { basic: { email: process.env.SIMULATOR_EMAIL ?? "demo@example.com", apiToken: process.env.SIMULATOR_TOKEN ?? "demo-token" } },
  });
}
jobs = await listJobs();
log(`${jobs.length} jobs (${created} integrations created)`);
const issueJobs = jobs.filter((j) => j.jobType === "JOB_TYPE_JIRA_ISSUES" && j.status !== "JOB_STATUS_RUNNING");
if (issueJobs.length < SYNCS) throw new Error(`only ${issueJobs.length} idle jira_issues jobs, ${SYNCS} needed`);
const syncJobs = issueJobs.slice(0, SYNCS);

// The integrations it made (and their rows) go at the end, whatever happens, unless KEEP=1.
async function cleanUp() {
  if (process.env.KEEP === "1") return;
  const integrations = [];
  let pageToken = "";
  do {
    const r = await call("IntegrationService/ListIntegrations", { page: { pageSize: 500, pageToken } });
    integrations.push(...(r.integrations ?? []));
    pageToken = r.nextPageToken ?? "";
  } while (pageToken);
  const ours = integrations.filter((i) => i.name.startsWith(`bench-jira-${stamp}-`));
  for (const i of ours) await call("IntegrationService/DeleteIntegration", { id: i.id });
  log(`deleted the ${ours.length} integrations it created`);
}

const browser = await launch();
let chromiumVersion, load, loadMain, loadTasks, stream, finalCards;
let runs = [];
const problems = [];
try {
  chromiumVersion = browser.version();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();

  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await signIn(page);

  // 2. The jobs page's own load (signed in, a full navigation to /jobs).
  const cards = page.locator('[data-testid="job-card"]');
  load = await traced(browser, CATEGORIES, async () => {
    const t0 = Date.now();
    await page.goto(`${BASE}/jobs`);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="job-card"]').length >= n, jobs.length, { timeout: 60_000 });
    await page.locator('[data-testid="stream-status"][data-state="live"]').waitFor();
    const shown = Date.now() - t0;
    await page.waitForTimeout(1000);
    return shown;
  });
  loadMain = rendererMain(load.events, BASE);
  loadTasks = longTaskSummary(tasksOf(load.events, loadMain));
  log(`jobs page: ${await cards.count()} cards shown ${load.result} ms after navigation; ${loadTasks.longTasks} long task(s), longest ${loadTasks.longestMs} ms`);

  // 3. The syncs, traced.
  await page.evaluate(() => {
    const loop = () => requestAnimationFrame(loop);
    requestAnimationFrame(loop);
  });

  stream = await traced(browser, CATEGORIES, async () => {
    await page.waitForTimeout(2000);
    const started = Date.now();
    runs = await Promise.all(syncJobs.map(async (j) => (await call("JobService/RunJob", { id: j.id })).run));
    log(`started ${runs.length} syncs: ${runs.map((r) => r.id.slice(0, 8)).join(", ")}`);
    const ended = new Map();
    while (ended.size < runs.length) {
      if (Date.now() - started > TIMEOUT_MS) throw new Error(`the syncs did not end within ${TIMEOUT_MS} ms`);
      await page.waitForTimeout(1000);
      for (const r of runs) {
        if (ended.has(r.id)) continue;
        const run = (await call("JobService/GetJobRun", { id: r.id })).run;
        if (!["RUN_STATUS_RUNNING", "RUN_STATUS_PENDING", "RUN_STATUS_UNSPECIFIED", undefined].includes(run.status)) ended.set(r.id, run);
      }
    }
    const syncMs = Date.now() - started;
    // Every card shows its run's end.
    for (const j of syncJobs) {
      await page.locator(`[data-testid="job-card"][data-job-id="${j.id}"]:not([data-run-status="running"])`).waitFor({ timeout: 30_000 });
    }
    const shownMs = Date.now() - started;
    await page.waitForTimeout(1000);
    runs = [...ended.values()];
    return { syncMs, shownMs };
  });

  finalCards = await page.$$eval('[data-testid="job-card"]', (els) =>
    els.map((e) => ({ id: e.getAttribute("data-job-id"), runStatus: e.getAttribute("data-run-status"), progress: e.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") })),
  );
} finally {
  await browser.close();
  await cleanUp();
}

// 4. The trace.
const main = rendererMain(stream.events, BASE);
const [pid] = main.split(":");
const inMain = (e) => `${e.pid}:${e.tid}` === main;
const tasks = tasksOf(stream.events, main);
const summary = longTaskSummary(tasks);
const traceStart = Math.min(...tasks.map((t) => t.start));
const traceEnd = Math.max(...tasks.map((t) => t.start + t.dur));
const animationFrames = stream.events.filter((e) => inMain(e) && e.name === "FireAnimationFrame" && e.ph === "X").map((e) => e.ts / 1000).sort((a, b) => a - b);
// Frames of the page's compositor, as cc's PipelineReporter classes them: presented (with an
// update), dropped (an update missed its frame), or nothing to update.
const frames = { presented: 0, dropped: 0, noUpdate: 0, other: 0 };
for (const e of stream.events) {
  if (e.name !== "PipelineReporter" || e.ph !== "b" || String(e.pid) !== pid) continue;
  const state = e.args?.frame_reporter?.state ?? e.args?.chrome_frame_reporter?.state ?? "";
  if (/PRESENTED/.test(state)) frames.presented++;
  else if (/DROPPED/.test(state)) frames.dropped++;
  else if (/NO_UPDATE/.test(state)) frames.noUpdate++;
  else frames.other++;
}
// The WatchJobs stream's chunks as the renderer received them (the stream opened with the page).
const watchRequests = new Set(
  [...load.events, ...stream.events].filter((e) => e.name === "ResourceSendRequest" && /WatchJobs$/.test(e.args?.data?.url ?? "")).map((e) => e.args.data.requestId),
);
const chunks = stream.events.filter((e) => e.name === "ResourceReceivedData" && watchRequests.has(e.args?.data?.requestId));
const scripting = stream.events.filter((e) => inMain(e) && (e.name === "FunctionCall" || e.name === "EvaluateScript" || e.name === "v8.callFunction")).reduce((s, e) => s + (e.dur ?? 0) / 1000, 0);
const layout = stream.events.filter((e) => inMain(e) && e.name === "Layout").reduce((s, e) => s + (e.dur ?? 0) / 1000, 0);
const style = stream.events.filter((e) => inMain(e) && (e.name === "UpdateLayoutTree" || e.name === "RecalculateStyles")).reduce((s, e) => s + (e.dur ?? 0) / 1000, 0);
const paint = stream.events.filter((e) => inMain(e) && (e.name === "Paint" || e.name === "PrePaint")).reduce((s, e) => s + (e.dur ?? 0) / 1000, 0);
const windowMs = traceEnd - traceStart;

const result = {
  url: `${BASE}/jobs`,
  chromium: chromiumVersion,
  machine: { ...before, loadavgAfter: machine().loadavg },
  jobs: jobs.length,
  syncs: runs.map((r) => ({ id: r.id, status: r.status, durationMs: Number(r.durationMs ?? 0), recordsLoaded: Number(r.counts?.recordsLoaded ?? 0), issuesLoaded: Number(r.counts?.issuesLoaded ?? 0) })),
  syncWallMs: stream.result.syncMs,
  allCardsShownEndMs: stream.result.shownMs,
  cardsAtEnd: { total: finalCards.length, completed: finalCards.filter((c) => c.runStatus === "completed").length },
  pageLoad: { cardsShownMs: load.result, ...loadTasks, dataLoss: load.dataLoss },
  trace: { windowMs: round(windowMs), events: stream.events.length, dataLoss: stream.dataLoss, rendererMain: main },
  mainThread: { ...summary, busyPercent: round((100 * summary.busyMs) / windowMs), scriptingMs: round(scripting), styleMs: round(style), layoutMs: round(layout), paintMs: round(paint) },
  animationFrames: intervalSummary(animationFrames),
  frames,
  watchJobsChunks: chunks.length,
  problems,
};
writeOut("jobs-stream.json", result);
const tracePath = writeOut("jobs-stream.trace.json.gz", gzipSync(stream.raw));
writeOut("jobs-page-load.trace.json.gz", gzipSync(load.raw));
console.log(`\nJobs page, ${result.jobs} jobs, ${runs.length} syncs streaming (trace ${round(windowMs / 1000)} s, ${stream.events.length} events${stream.dataLoss ? ", DATA LOST" : ""}):`);
console.table(result.syncs);
console.log(`syncs took ${round(result.syncWallMs / 1000)} s wall; the page showed every end ${round(result.allCardsShownEndMs / 1000)} s after RunJob; ${result.watchJobsChunks} WatchJobs chunks received`);
console.log(
  `page load: ${result.pageLoad.cardsShownMs} ms to ${result.jobs} cards; long tasks ${result.pageLoad.longTasks} (wall/CPU ms: ${result.pageLoad.longTaskMs.join(", ")}), over 100 ms ${result.pageLoad.over100}, longest ${result.pageLoad.longestMs} ms`,
);
console.log(
  `during the syncs: ${summary.tasks} tasks, main thread busy ${result.mainThread.busyPercent}% of the wall time, ${summary.cpuMs} ms CPU (scripting ${result.mainThread.scriptingMs} ms, style ${result.mainThread.styleMs} ms, layout ${result.mainThread.layoutMs} ms, paint ${result.mainThread.paintMs} ms); long tasks ${summary.longTasks} (wall/CPU ms: ${summary.longTaskMs.join(", ")}), over 100 ms ${summary.over100}, longest ${summary.longestMs} ms; longest by CPU ${summary.longestCpuMs} ms`,
);
console.log(`animation frames: ${JSON.stringify(result.animationFrames)}`);
console.log(`compositor frames: ${JSON.stringify(result.frames)}`);
if (problems.length) console.log(`browser problems:\n  ${problems.join("\n  ")}`);
console.log(`→ ${writeOut("jobs-stream.json", result)}, trace ${tracePath} (chrome://tracing, Perfetto)`);
