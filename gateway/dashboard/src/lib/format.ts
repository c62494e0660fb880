import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

export function toDate(ts: Timestamp | undefined): Date | null {
  if (!ts) return null;
  const d = timestampDate(ts);
  return Number.isNaN(d.getTime()) || d.getTime() <= 0 ? null : d;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-12-04 18:13:10" in the viewer's time zone; "—" when unset. */
export function formatTime(ts: Timestamp | Date | undefined | null): string {
  const d = ts instanceof Date ? ts : toDate(ts ?? undefined);
  if (!d) return "—";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "in 5 minutes", "3 hours ago"; "" when unset. */
export function formatRelative(ts: Timestamp | Date | undefined | null, now: number = Date.now()): string {
  const d = ts instanceof Date ? ts : toDate(ts ?? undefined);
  if (!d) return "";
  const s = Math.round((d.getTime() - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

export function num(n: bigint | number | undefined | null): number {
  if (n == null) return 0;
  return typeof n === "bigint" ? Number(n) : n;
}

const intFmt = new Intl.NumberFormat("en");

export function formatInt(n: bigint | number | undefined | null): string {
  return intFmt.format(num(n));
}

/** "850 ms", "12.4 s", "3 min 04 s", "2 h 05 min". */
export function formatDuration(ms: bigint | number | undefined | null): string {
  const v = num(ms);
  if (v <= 0) return v === 0 ? "0 ms" : "—";
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  const totalS = Math.round(v / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)} min ${pad(totalS % 60)} s`;
  const totalM = Math.round(totalS / 60);
  return `${Math.floor(totalM / 60)} h ${pad(totalM % 60)} min`;
}

/** "512 B", "3.2 MiB". */
export function formatBytes(bytes: bigint | number | undefined | null): string {
  const v = num(bytes);
  if (v <= 0) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let x = v;
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${u === 0 ? x : x.toFixed(1)} ${units[u]}`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond < 0) return "—";
  return perSecond >= 100 ? intFmt.format(Math.round(perSecond)) : perSecond.toFixed(1);
}

/** Records per second over a run. */
export function recordsPerSecond(records: bigint | number, durationMs: bigint | number): number {
  const d = num(durationMs);
  return d > 0 ? num(records) / (d / 1000) : 0;
}

/** `2026-12-04` (an <input type="date"> value) as the start of that local day. */
export function dayStart(value: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const d = new Date(`${value}T00:00:00`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The end of that local day (exclusive bound: the next midnight). */
export function dayEnd(value: string): Date | null {
  const d = dayStart(value);
  if (!d) return null;
  d.setDate(d.getDate() + 1);
  return d;
}

/** A list typed as "A, B C" → ["A", "B", "C"]. */
export function splitList(value: string): string[] {
  return value
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A JSON value for display: strings bare, the rest as compact JSON. */
export function formatJsonValue(json: string): string {
  if (!json) return "—";
  try {
    const v: unknown = JSON.parse(json);
    if (v === null) return "—";
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number")) return v.join(", ");
    return JSON.stringify(v);
  } catch {
    return json;
  }
}
