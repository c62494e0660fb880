#!/usr/bin/env node
// End-to-end walk-through of the dashboard as a new user, against real services (the gateway
// serving the built dashboard, the Sluice services behind it and the Jira simulator).
//
//   DASHBOARD_URL     the gateway, e.g. http://127.0.0.1:8080 (default)
//   SLUICE_API_KEY    a tenant API key (required)
//   SIMULATOR_URL     base URL of the Jira simulator (required)
//   SIMULATOR_EMAIL   its user (default demo@example.com)
//   SIMULATOR_TOKEN   its API token (default demo-token)
//   ARTIFACTS_DIR     where the screenshots go (default e2e-artifacts)
//   POISON_COMMAND    optional: a shell command that makes a batch dead-letter; then the dead
//                     letter is requeued through the dashboard
//   E2E_FIELDS        optional: comma-separated names (or ids) of the 3 fields to map (default:
//                     3 custom fields the sync fetched, see below; system fields work too)
//   E2E_SEARCH_QUERY  optional: the search query (default: words of a synced work item's summary)
//   E2E_TIMEOUT_MS    optional: how long a sync, reprocess or requeue may take (default 240000)
//   E2E_DELETE        optional: "1" deletes the integration at the end (with the confirmation)
//
// Any console error or warning and any page error fails the run.
import { execSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const BASE = (process.env.DASHBOARD_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const API_KEY = process.env.SLUICE_API_KEY ?? "";
const SIM_URL = process.env.SIMULATOR_URL ?? "";
const SIM_EMAIL = process.env.SIMULATOR_EMAIL ?? "demo@example.com";
const SIM_TOKEN = process.env.SIMULATOR_TOKEN ?? "demo-token";
const ARTIFACTS = resolve(process.env.ARTIFACTS_DIR ?? "e2e-artifacts");
const LONG = Number(process.env.E2E_TIMEOUT_MS ?? 240_000);
const POISON = process.env.POISON_COMMAND ?? "";

if (!API_KEY || !SIM_URL) {
  console.error("e2e: SLUICE_API_KEY and SIMULATOR_URL are required");
  process.exit(2);
}
mkdirSync(ARTIFACTS, { recursive: true });

const problems = [];
let shotNo = 0;
let page;
let browser;

function log(msg) {
  console.log(`[e2e ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

async function shot(name) {
  shotNo++;
  const file = join(ARTIFACTS, `${String(shotNo).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  log(`screenshot ${file}`);
}

function checkConsole(where) {
  if (problems.length > 0) {
    throw new Error(`browser reported ${problems.length} problem(s) during "${where}":\n  ${problems.join("\n  ")}`);
  }
}

async function step(name, fn) {
  log(`— ${name}`);
  try {
    await fn();
    checkConsole(name);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    console.error(`\nE2E FAILED at step "${name}": ${msg}\n`);
    try {
      await page.screenshot({ path: join(ARTIFACTS, `failure-${name.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true });
    } catch {
      // the page may be gone
    }
    await browser?.close();
    process.exit(1);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function until(what, fn, timeout = LONG, every = 250) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    checkConsole(what);
    await page.waitForTimeout(every);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
}

const tid = (id) => `[data-testid="${id}"]`;

async function noSidewaysScroll(where) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert(scroll <= width + 1, `${where}: the page scrolls sideways at ${width} px (content is ${scroll} px wide)`);
}

browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu", "--no-first-run", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
context.setDefaultTimeout(20_000);
page = await context.newPage();
page.on("console", (m) => {
  if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()} (${m.location().url ?? ""})`);
});
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
// API calls by method ("JobService/GetJob" …), to check what the live views do not need.
const calls = new Map();
page.on("request", (r) => {
  const m = /\/sluice\.v1\.(\w+\/\w+)$/.exec(new URL(r.url()).pathname);
  if (m) calls.set(m[1], (calls.get(m[1]) ?? 0) + 1);
});
const callCount = (method) => calls.get(method) ?? 0;

const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const integrationName = `e2e-jira-${stamp}`;
let integrationId = "";
let mapped = []; // [A, B, C] field ids
const mappedNames = new Map();
let searchWords = "";

await step("sign in with a wrong key", async () => {
  await page.goto(`${BASE}/`);
  await page.locator(tid("api-key-input")).fill(`sk_sluice_wrong_${stamp}`);
  await page.locator(tid("sign-in")).click();
  const err = page.locator(tid("signin-error"));
  await err.waitFor();
  const text = await err.innerText();
  assert(/not accepted/i.test(text), `expected a refused-key message, got: ${text}`);
  await shot("signin-error");
});

await step("sign in with the right key", async () => {
  await page.locator(tid("api-key-input")).fill(API_KEY);
  await page.locator(tid("sign-in")).click();
  const tenant = page.locator(tid("tenant-name"));
  await tenant.waitFor();
  const name = (await tenant.innerText()).trim();
  assert(name.length > 0, "the header shows no tenant name");
  log(`signed in as tenant ${name}`);
  await page.locator(tid("stream-status")).waitFor();
  await shot("signed-in-jobs");
});

await step("create a Jira integration against the simulator", async () => {
  await page.locator("nav").getByRole("link", { name: "Integrations" }).click();
  await page.locator(tid("integration-new")).click();
  const form = page.locator(tid("integration-form"));
  await form.waitFor();
  await form.locator(tid("int-type-jira")).check();
  await form.locator(tid("int-name")).fill(integrationName);
  await form.locator(tid("int-base-url")).fill(SIM_URL);
  await form.locator(tid("int-auth-basic")).check();
  await form.locator(tid("int-email")).fill(SIM_EMAIL);
  await form.locator(tid("int-api-token")).fill(SIM_TOKEN);
  assert((await form.locator(tid("int-api-token")).getAttribute("type")) === "password", "the API token input is not masked");
  assert(await form.locator(tid("int-prs-from-github")).isChecked(), "pull requests from GitHub is not on by default");
  await form.locator(tid("int-submit")).click();
  const saved = page.locator(tid("integration-saved"));
  await saved.waitFor();
  integrationId = (await saved.getAttribute("data-integration-id")) ?? "";
  assert(integrationId, "no integration id after creating it");
  log(`integration ${integrationId}`);
  const card = page.locator(`${tid("integration-card")}[data-integration-id="${integrationId}"]`);
  await card.waitFor();
  assert(!(await card.innerText()).includes(SIM_TOKEN), "the API token is displayed back");
  await shot("integration-created");
});

await step("test the connection", async () => {
  const card = page.locator(`${tid("integration-card")}[data-integration-id="${integrationId}"]`);
  await card.locator(tid("integration-test")).click();
  const result = card.locator(`${tid("test-result")}[data-ok]`);
  await result.waitFor({ timeout: 60_000 });
  const ok = await result.getAttribute("data-ok");
  assert(ok === "true", `TestConnection failed: ${await result.innerText()}`);
  await shot("integration-test-ok");
});

async function jobCard(type) {
  const card = page.locator(`${tid("job-card")}[data-integration-id="${integrationId}"][data-job-type="${type}"]`);
  await card.waitFor({ timeout: 30_000 });
  return card;
}

async function progressOf(card) {
  return Number(await card.locator(tid("job-progress")).getAttribute("aria-valuenow"));
}

/** How much of its track a progress bar's fill covers (0–1), as drawn (transforms included). */
async function drawnFraction(bar) {
  return bar.evaluate((el) => {
    const fill = el.querySelector(".progress-fill");
    const track = el.getBoundingClientRect().width;
    return fill && track > 0 ? fill.getBoundingClientRect().width / track : 0;
  });
}

/** A bar whose label says 100% is drawn full at once, not after a transition. */
async function assertFullBar(bar, what) {
  const label = await bar.getAttribute("aria-valuenow");
  const drawn = await drawnFraction(bar);
  assert(label !== "100" || drawn > 0.995, `${what}: the label says ${label}% but the bar is drawn at ${(drawn * 100).toFixed(1)}%`);
}

/** Starts a run of the job (unless one is running) and follows its bar to 100 %. */
async function runAndWatch(type) {
  const card = await jobCard(type);
  // A run the scheduler started on its own finishes first.
  await until(`${type} to be idle`, async () => (await card.getAttribute("data-status")) !== "running");
  const before = (await card.getAttribute("data-run-id")) ?? "";
  await card.locator(tid("job-run")).click();
  const runId = await until(`${type}: a new run to start`, async () => {
    const id = (await card.getAttribute("data-run-id")) ?? "";
    const err = card.locator(tid("job-action-error"));
    if (await err.count()) {
      const text = await err.innerText();
      // The scheduler may have started it between our look and the click: follow that run.
      if (!/FAILED_PRECONDITION/.test(text)) throw new Error(`RunJob failed: ${text}`);
      if (id && id !== before) log(`${type}: already running (${text}); following run ${id}`);
    }
    return id && id !== before ? id : null;
  });
  const seen = [];
  await until(`${type}: run ${runId} to complete`, async () => {
    const p = await progressOf(card);
    if (seen.at(-1) !== p) seen.push(p);
    const runStatus = await card.getAttribute("data-run-status");
    if (runStatus === "failed" || runStatus === "cancelled") {
      const err = card.locator(tid("job-error"));
      throw new Error(`run ${runId} ${runStatus}: ${(await err.count()) ? await err.innerText() : "no message"}`);
    }
    return runStatus === "completed" && p === 100;
  }, LONG, 100);
  await assertFullBar(card.locator(tid("job-progress")), `${type} card`);
  log(`${type}: progress seen ${seen.join(" → ")}`);
  assert(seen.length >= 2 && seen[0] < 100, `${type}: the bar did not move live (values seen: ${seen.join(", ")})`);
  // The run's end moves the job's next run (now + its interval): the card shows it from the
  // event, never the due time that has just passed.
  await until(`${type}: the next run to move past the run`, async () => Number((await card.getAttribute("data-next-run-at")) || 0) > Date.now(), 10_000, 100);
  const nextRun = await card.locator(tid("job-next-run")).innerText();
  assert(!/ago\)/.test(nextRun), `${type}: the next run shows as past: ${nextRun}`);
  log(`${type}: next run ${nextRun}`);
  const stream = await page.locator(tid("stream-status")).getAttribute("data-state");
  assert(stream === "live", `the job stream is ${stream}, not live`);
  return runId;
}

await step("run discovery and the issues sync, watching the bars live", async () => {
  await page.goto(`${BASE}/jobs?integration=${integrationId}`);
  await jobCard("jira_discovery");
  await jobCard("jira_issues");
  const getJob = callCount("JobService/GetJob");
  await runAndWatch("jira_discovery");
  await runAndWatch("jira_issues");
  // Events carry status, run and schedule: following the runs asks for no job again.
  assert(callCount("JobService/GetJob") === getJob, `the jobs page called GetJob ${callCount("JobService/GetJob") - getJob} time(s) while following the runs`);
  await shot("jobs-synced");
});

function chip(fieldId) {
  return page.locator(`${tid("field-chip")}[data-field-id="${fieldId}"]`).first();
}

/** Opens the sections around a field's chip (the system fields start closed). */
async function reveal(fieldId) {
  await chip(fieldId).evaluate((el) => {
    for (let d = el.closest("details"); d; d = d.parentElement?.closest("details") ?? null) d.open = true;
  });
}
function slot(column) {
  return page.locator(`${tid("slot")}[data-column="${column}"]`);
}

async function dragTo(handle, target) {
  await handle.scrollIntoViewIfNeeded();
  await target.scrollIntoViewIfNeeded();
  await handle.scrollIntoViewIfNeeded();
  const a = await handle.boundingBox();
  let b = await target.boundingBox();
  assert(a && b, "drag source or target is not on screen");
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width / 2 + 10, a.y + a.height / 2 + 5, { steps: 4 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 20 });
  // The page may have scrolled under the pointer while dragging (dnd-kit scrolls near the
  // edges): aim at where the target is now, until it stays put.
  for (let i = 0; i < 5; i++) {
    await page.waitForTimeout(150);
    const now = await target.boundingBox();
    assert(now, "drag target left the page");
    const [x, y] = [now.x + now.width / 2, now.y + now.height / 2];
    if (Math.abs(x - (b.x + b.width / 2)) < 1 && Math.abs(y - (b.y + b.height / 2)) < 1) break;
    await page.mouse.move(x, y, { steps: 5 });
    b = now;
  }
  await page.mouse.up();
}

async function slotField(column) {
  return (await slot(column).getAttribute("data-field-id")) ?? "";
}

await step("open the custom fields of the integration", async () => {
  await page.goto(`${BASE}/custom-fields?integration=${integrationId}`);
  await page.locator(`${tid("field-chip")}, ${tid("no-fields")}`).first().waitFor({ timeout: 60_000 });
  if (await page.locator(tid("no-fields")).count()) {
    log("no fields yet: running discovery from the page");
    await page.locator(tid("run-discovery")).click();
    await page.locator(`${tid("discovery-progress")}[data-status="completed"]`).waitFor({ timeout: LONG });
    await page.locator(tid("field-chip")).first().waitFor({ timeout: 30_000 });
  }
  const ids = await page.$$eval(tid("field-chip"), (els) => [...new Set(els.map((e) => e.getAttribute("data-field-id")))]);
  const names = await page.$$eval(tid("field-chip"), (els) => Object.fromEntries(els.map((e) => [e.getAttribute("data-field-id"), e.getAttribute("data-field-name")])));
  // Custom fields, those the sync fetched first: a sync asks Jira for the mapped custom fields
  // and the ones with columns of their own (story points, sprint, team, epic link), and
  // Reprocess re-reads the stored pages, so only those can show values after it.
  const customIds = await page.$$eval(`${tid("field-chip")}[data-custom="true"]`, (els) => {
    const fetched = (e) => /(jsw-story-points|gh-sprint|gh-epic-link|atlassian-team)$/.test(e.getAttribute("data-custom-type") ?? "");
    return [...new Set([...els.filter(fetched), ...els].map((e) => e.getAttribute("data-field-id")))];
  });
  log(`${ids.length} discovered fields, ${customIds.length} custom`);
  const system = page.locator(tid("system-fields"));
  if (await system.count()) {
    assert(!(await system.evaluate((d) => d.open)), "the system fields are not collapsed by default");
    const visible = await page.locator(`${tid("field-chip")}[data-custom="false"]`).first().isVisible();
    assert(!visible, "a system field is visible while its section is collapsed");
  }
  const wanted = (process.env.E2E_FIELDS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (wanted.length) {
    mapped = wanted.map((n) => {
      const id = ids.find((i) => names[i] === n || i === n);
      assert(id, `E2E_FIELDS names ${n}, which discovery did not find`);
      return id;
    });
  } else mapped = customIds.slice(0, 3);
  assert(mapped.length === 3, `need 3 fields to map, discovery found ${ids.length}`);
  mapped.forEach((id) => mappedNames.set(id, names[id]));
  // The mapping starts empty for a new integration; clear it if not.
  for (let c = 1; c <= 20; c++) assert((await slotField(c)) === "" || !mapped.includes(await slotField(c)), "the new integration already has a mapping");
  await shot("custom-fields");
});

await step("map two fields by drag and drop", async () => {
  for (const [i, fieldId] of mapped.slice(0, 2).entries()) {
    const column = i + 1;
    await reveal(fieldId);
    await dragTo(chip(fieldId).locator(tid("field-drag")), slot(column));
    await until(`${mappedNames.get(fieldId)} to land in column ${column}`, async () => (await slotField(column)) === fieldId, 5000);
  }
});

await step("map a third field with the keyboard", async () => {
  const fieldId = mapped[2];
  const name = mappedNames.get(fieldId);
  // dnd-kit's keyboard sensor: space picks the field up, arrows move it, space drops it.
  await reveal(fieldId);
  const handle = chip(fieldId).locator(tid("field-drag"));
  await handle.focus();
  await page.keyboard.press("Space");
  let dropped = false;
  for (const key of ["ArrowRight", "ArrowDown", "ArrowDown", "ArrowDown", "ArrowRight", "ArrowDown", "ArrowDown", "ArrowDown", "ArrowDown"]) {
    await page.keyboard.press(key);
    await page.waitForTimeout(120);
    const over = page.locator(`${tid("slot")}[data-over="true"]`);
    if ((await over.count()) === 1 && (await over.getAttribute("data-field-id")) === "" && (await over.getAttribute("data-extra")) !== "true") {
      await page.keyboard.press("Space");
      dropped = true;
      break;
    }
  }
  if (!dropped) {
    await page.keyboard.press("Escape");
    log("keyboard drag found no free column: using the Place… buttons with the keyboard");
  }
  let column = 0;
  for (let c = 1; c <= 20; c++) if ((await slotField(c)) === fieldId) column = c;
  if (!dropped || column === 0) {
    await chip(fieldId).locator(tid("field-pick")).focus();
    await page.keyboard.press("Enter");
    await page.locator(tid("picking")).waitFor();
    await slot(3).locator(tid("slot-place")).focus();
    await page.keyboard.press("Enter");
    column = 3;
  }
  await until(`${name} to be mapped by keyboard`, async () => (await slotField(column)) === fieldId, 5000);
  for (const [i, id] of mapped.slice(0, 2).entries()) assert((await slotField(i + 1)) === id, `column ${i + 1} lost its field during the keyboard move`);
  log(`${name} → column ${column} by keyboard (${dropped ? "dnd-kit keyboard sensor" : "Place… buttons"})`);
  await shot("fields-mapped");
});

await step("save the mapping", async () => {
  await page.locator(tid("mapping-save")).click();
  await page.locator(tid("mapping-saved")).waitFor();
  assert((await page.locator(tid("dedicated-count")).innerText()).startsWith("3 /"), "expected 3 dedicated columns after saving");
});

await step("try a 21st dedicated field and see the server refuse it", async () => {
  // Custom fields first (what one maps); system ones only if there are too few.
  const ids = await page.$$eval(tid("field-chip"), (els) => {
    const custom = els.filter((e) => e.getAttribute("data-custom") === "true");
    return [...new Set([...custom, ...els].map((e) => e.getAttribute("data-field-id")))];
  });
  const others = ids.filter((id) => !mapped.includes(id));
  assert(others.length >= 18, `discovery found ${ids.length} fields: 21 are needed to try a 21st dedicated column`);
  await page.locator(tid("add-column")).click();
  await slot(21).waitFor();
  const free = [];
  for (let c = 1; c <= 21; c++) if ((await slotField(c)) === "") free.push(c);
  for (const [i, column] of free.entries()) {
    await reveal(others[i]);
    await chip(others[i]).locator(tid("field-map-select")).selectOption(`slot:${column - 1}`);
  }
  const count = await page.locator(tid("dedicated-count")).innerText();
  assert(count.startsWith("21 /"), `expected 21 dedicated columns, the page says ${count}`);
  await page.locator(tid("mapping-save")).click();
  const shown = page.locator(`${tid("entry-error")}, ${tid("mapping-error")}`).first();
  await shown.waitFor();
  const texts = await page.locator(`${tid("entry-error")}, ${tid("mapping-error")}`).allInnerTexts();
  const all = texts.join(" | ");
  assert(/mapping\.entries/.test(all) && /(at most 20|out of range)/.test(all), `the server's INVALID_ARGUMENT is not shown: ${all}`);
  const entryErr = page.locator(tid("entry-error"));
  if (await entryErr.count()) {
    const inSlot = await entryErr.first().evaluate((el) => el.closest('[data-testid="slot"], [data-testid="overflow-item"]')?.getAttribute("data-field-id") ?? "");
    assert(inSlot !== "", "the entry error is not next to the entry it names");
    log(`server error shown next to ${inSlot}: ${await entryErr.first().innerText()}`);
  } else log(`server error shown on the list: ${all}`);
  await shot("mapping-21st-refused");
  await page.locator(tid("mapping-discard")).click();
  await until("the saved mapping to come back", async () => (await page.locator(tid("dedicated-count")).innerText()).startsWith("3 /"), 5000);
  assert((await slot(21).count()) === 0 || (await slotField(21)) === "", "column 21 still holds a field after discarding");
});

await step("reprocess and follow it live", async () => {
  const getJobRun = callCount("JobService/GetJobRun");
  await page.locator(tid("reprocess")).click();
  const panel = page.locator(tid("reprocess-progress"));
  await panel.waitFor();
  const seen = [];
  await until("the reprocess run to complete", async () => {
    const p = Number(await panel.locator(tid("reprocess-progress-bar")).getAttribute("aria-valuenow"));
    if (seen.at(-1) !== p) seen.push(p);
    const s = await panel.getAttribute("data-status");
    if (s === "failed" || s === "cancelled") throw new Error(`reprocess ${s}: ${await panel.innerText()}`);
    return s === "completed";
  }, LONG, 100);
  await assertFullBar(panel.locator(tid("reprocess-progress-bar")), "reprocess panel");
  // Reprocess names the run's job: the panel watches it without looking the run up.
  assert(callCount("JobService/GetJobRun") === getJobRun, "the reprocess panel called GetJobRun to find the run's job");
  log(`reprocess progress seen ${seen.join(" → ")}`);
  await page.locator(tid("reprocess-done")).waitFor();
  await shot("reprocessed");
});

await step("see the mapped values in a work item", async () => {
  await page.goto(`${BASE}/work-items?integration=${integrationId}`);
  await page.locator(`${tid("work-item-row")}, ${tid("empty")}`).first().waitFor({ timeout: 30_000 });
  const keys = await page.$$eval(tid("work-item-row"), (els) => els.map((e) => e.getAttribute("data-key")));
  assert(keys.length > 0, "the integration has no work items after the sync");
  let found = null;
  for (const key of keys.slice(0, 25)) {
    await page.goto(`${BASE}/work-items/${integrationId}/${encodeURIComponent(key)}`);
    await page.locator(tid("work-item-detail")).waitFor();
    const fields = await page.$$eval(tid("custom-field"), (els) => els.map((e) => ({ id: e.getAttribute("data-field-id"), column: e.getAttribute("data-column"), value: e.querySelector('[data-testid="custom-field-value"]')?.textContent ?? "" })));
    const hit = fields.filter((f) => mapped.includes(f.id ?? "") && f.value && f.value !== "—");
    if (hit.length > 0) {
      found = { key, hit };
      break;
    }
  }
  assert(found, `none of the first work items shows a value for the mapped fields ${mapped.map((id) => mappedNames.get(id)).join(", ")}`);
  log(`${found.key}: ${found.hit.map((h) => `${mappedNames.get(h.id)} (column ${h.column}) = ${h.value}`).join("; ")}`);
  const summary = await page.locator("#wi-detail-title").innerText();
  searchWords = summary.replace(/^Work items\s*\/\s*\S+\s*/, "").split(/\s+/).slice(0, 6).join(" ");
  await shot("work-item-detail");
});

await step("open the run history and its chart", async () => {
  await page.goto(`${BASE}/jobs?integration=${integrationId}`);
  const card = await jobCard("jira_issues");
  await card.locator(tid("job-details")).click();
  await page.locator(tid("run-history")).waitFor();
  await page.locator(tid("run-row")).first().waitFor();
  await page.locator(`${tid("run-chart")} svg`).first().waitFor();
  const rows = await page.locator(tid("run-row")).count();
  assert(rows >= 2, `expected the sync and the reprocess in the history, found ${rows} run(s)`);
  await shot("run-history");
});

if (POISON) {
  await step("poison a batch, requeue its dead letter, see the run complete", async () => {
    log(`running POISON_COMMAND: ${POISON}`);
    execSync(POISON, { stdio: "inherit", shell: "/bin/bash", timeout: LONG });
    await page.goto(`${BASE}/queues`);
    await page.locator(tid("queue-row")).first().waitFor();
    const row = page.locator(tid("dead-letter-row")).first();
    await row.waitFor({ timeout: LONG });
    const id = await row.getAttribute("data-id");
    const runId = await row.getAttribute("data-run-id");
    log(`dead letter ${id} (run ${runId}) from ${await row.getAttribute("data-queue")}`);
    await shot("dead-letter");
    await row.locator(tid("dl-select")).check();
    await page.locator(tid("dl-requeue-selected")).click();
    const result = page.locator(tid("dl-result"));
    await result.waitFor();
    assert(/Requeued [1-9]/.test(await result.innerText()), `requeue: ${await result.innerText()}`);
    await page.locator(`${tid("dead-letter-row")}[data-id="${id}"]`).waitFor({ state: "detached", timeout: LONG });
    await shot("dead-letter-requeued");
    if (runId) {
      await page.goto(`${BASE}/runs/${runId}`);
      await page.locator(tid("run-history")).waitFor();
      await until(`run ${runId} to complete after the requeue`, async () => {
        const r = page.locator(`${tid("run-row")}[data-run-id="${runId}"]`);
        if ((await r.count()) === 0) return false;
        const s = await r.getAttribute("data-status");
        if (s === "failed" || s === "cancelled") throw new Error(`run ${runId} ${s} after the requeue`);
        if (s === "completed") return true;
        await page.reload();
        await page.locator(tid("run-history")).waitFor();
        return false;
      }, LONG, 3000);
      const latest = await page.locator(tid("run-row")).first().getAttribute("data-status");
      assert(latest === "completed", `the job's latest run is ${latest}`);
      await shot("run-completed-after-requeue");
    }
  });
} else {
  log("POISON_COMMAND not set: dead-letter step skipped");
}

await step("search and open a result", async () => {
  const query = process.env.E2E_SEARCH_QUERY || searchWords || "issue";
  await page.goto(`${BASE}/search`);
  await page.locator(tid("search-input")).fill(query);
  await page.locator(tid("search-submit")).click();
  // The vectorizer may still be embedding what the sync loaded.
  await until(`results for "${query}"`, async () => {
    if (await page.locator(tid("search-result")).count()) return true;
    if (await page.locator(`${tid("search-empty")}, ${tid("error")}`).count()) {
      await page.waitForTimeout(3000);
      await page.reload();
    }
    return false;
  }, 120_000, 500);
  const first = page.locator(tid("search-result")).first();
  assert(/\d\.\d{4}/.test(await first.locator(tid("search-score")).innerText()), "results show no score");
  await shot("search-results");
  const link = page.locator(tid("search-result-link")).first();
  await link.click();
  await page.locator(tid("work-item-detail")).waitFor();
  await shot("search-result-opened");
});

await step("add a webhook channel, send a test, see it delivered and signed", async () => {
  // A local receiver: what a user's alerting endpoint would be.
  const received = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const receiverUrl = `http://127.0.0.1:${server.address().port}/hooks/sluice`;
  try {
    await page.locator("nav").getByRole("link", { name: "Notifications" }).click();
    await page.locator("main h1", { hasText: "Notifications" }).waitFor();
    // Every nav entry, this one included, fits the bar at 1280 px (it scrolls only when it must).
    const nav = await page.locator("nav.nav").evaluate((n) => ({ scroll: n.scrollWidth, width: n.clientWidth }));
    assert(nav.scroll <= nav.width + 1, `the nav scrolls at 1280 px: ${nav.scroll} px of links in ${nav.width} px`);
    // A wrong URL is refused by the server, the error shown under the URL field.
    await page.locator(tid("ch-name")).fill(`e2e-hook-${stamp}`);
    await page.locator(tid("ch-url")).fill("ftp://example.com/hook");
    await page.locator(tid("ch-create")).click();
    const refused = await page.locator(`${tid("ch-url-field")} ${tid("field-error")}`).innerText();
    assert(/^url: /.test(refused), `a wrong URL should be refused naming it, next to it: ${refused}`);
    await page.locator(tid("ch-url")).fill(receiverUrl);
    await page.locator(tid("ch-create")).click();
    // No secret typed: the one generated is shown once, with how to verify the signature.
    const secretBox = page.locator(tid("generated-secret"));
    const boxText = await secretBox.innerText();
    assert(/shown once/i.test(boxText) && /copy it now/i.test(boxText), `the secret box says it is shown once: ${boxText}`);
    assert(boxText.includes('X-Sluice-Signature: sha256=HMAC-SHA256(secret, "<X-Sluice-Timestamp>.<body>")'), `the secret box gives the verification recipe: ${boxText}`);
    const secret = (await page.locator(tid("generated-secret-value")).innerText()).trim();
    assert(secret.length >= 16, `a generated secret is shown once: "${secret}"`);
    const row = page.locator(`${tid("channel-row")}[data-name="e2e-hook-${stamp}"]`);
    await row.waitFor();
    assert(!(await row.innerText()).includes("/hooks/sluice"), "the channel row shows the URL's path (the URL is a secret)");
    await shot("notification-channel-created");
    // The log of this channel only; then a test, whose row appears without a reload.
    const channelId = await row.getAttribute("data-id");
    await page.locator(tid("log-channel")).selectOption(channelId);
    await page.locator(tid("deliveries-empty")).waitFor();
    await row.locator(tid("channel-test")).click();
    const delivery = page.locator(tid("delivery-row")).first();
    await delivery.waitFor();
    assert((await page.locator(tid("delivery-row")).count()) === 1, "one delivery in the channel's log after one test");
    assert(/Test/.test(await delivery.innerText()), `the delivery is the test event: ${await delivery.innerText()}`);
    // Pending, then delivered: the log refreshes by itself while a delivery is pending.
    await until("the test delivery to show as delivered", async () => (await delivery.getAttribute("data-status")) === "DELIVERED", 60_000, 500);
    assert((await delivery.locator(tid("delivery-status")).getAttribute("class"))?.includes("badge-completed"), "a delivered row wears the completed run badge");
    assert(received.length >= 1, "the receiver got the test notification");
    const hook = received[0];
    assert(hook.headers["x-sluice-event"] !== undefined && hook.headers["x-sluice-delivery"] !== undefined, `headers: ${JSON.stringify(hook.headers)}`);
    const { createHmac } = await import("node:crypto");
    const expected = "sha256=" + createHmac("sha256", secret).update(`${hook.headers["x-sluice-timestamp"]}.${hook.body}`).digest("hex");
    assert(hook.headers["x-sluice-signature"] === expected, `the signature verifies with the secret shown once (${hook.headers["x-sluice-signature"]})`);
    await shot("notification-delivered");
    // Delete it, with the confirmation.
    await row.locator(tid("channel-delete")).click();
    await page.locator(tid("confirm-ok")).click();
    await row.waitFor({ state: "detached" });
  } finally {
    server.close();
  }
});

await step("phone width", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of [`/jobs?integration=${integrationId}`, `/custom-fields?integration=${integrationId}`, `/catalog?integration=${integrationId}`, "/queues", "/work-items", "/search", "/integrations", "/notifications"]) {
    await page.goto(`${BASE}${path}`);
    await page.locator("main h1").first().waitFor();
    await page.waitForTimeout(500);
    await noSidewaysScroll(path);
  }
  await page.goto(`${BASE}/jobs?integration=${integrationId}`);
  await (await jobCard("jira_issues")).waitFor();
  await shot("phone-jobs");
  await page.setViewportSize({ width: 1280, height: 1000 });
});

if (process.env.E2E_DELETE === "1") {
  await step("delete the integration", async () => {
    await page.goto(`${BASE}/integrations`);
    const card = page.locator(`${tid("integration-card")}[data-integration-id="${integrationId}"]`);
    await card.locator(tid("integration-delete")).click();
    await page.locator(tid("confirm-ok")).click();
    await card.waitFor({ state: "detached" });
  });
}

await step("sign out", async () => {
  await page.locator(tid("sign-out")).click();
  await page.locator(tid("api-key-input")).waitFor();
  const stored = await page.evaluate(() => sessionStorage.getItem("sluice.apiKey"));
  assert(stored === null, "the API key is still in sessionStorage after signing out");
});

await browser.close();
log(`walk-through passed; screenshots in ${ARTIFACTS}`);
