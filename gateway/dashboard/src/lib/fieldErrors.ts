/**
 * INVALID_ARGUMENT messages start with the path of the field they are about, e.g.
 * `mapping.entries[20].column: 21 is out of range: 1..20 …` or `base_url: is required`.
 * These helpers split such a message so the UI can show it next to that field.
 */
export interface FieldError {
  /** The path as written, e.g. "mapping.entries[20].column". */
  path: string;
  /** The path in parts: names and indexes, e.g. ["mapping", "entries", 20, "column"]. */
  segments: (string | number)[];
  /** What is wrong, without the path. */
  detail: string;
  /** The whole message. */
  message: string;
}

const PATH = /^([A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*)*): ([\s\S]+)$/;

export function parseFieldError(message: string): FieldError | null {
  const m = PATH.exec(message.trim());
  if (!m) return null;
  const path = m[1] ?? "";
  const detail = m[2] ?? "";
  const segments: (string | number)[] = [];
  for (const part of path.split(".")) {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(part)?.[0] ?? "";
    segments.push(name);
    for (const idx of part.matchAll(/\[(\d+)\]/g)) segments.push(Number(idx[1]));
  }
  return { path, segments, detail, message };
}

/**
 * When `error` is about an element of the list at `listPath` (e.g. "mapping.entries"),
 * that element's index; otherwise null.
 */
export function listIndexOf(error: FieldError, listPath: string): number | null {
  const want = listPath.split(".");
  if (error.segments.length <= want.length) return null;
  for (let i = 0; i < want.length; i++) if (error.segments[i] !== want[i]) return null;
  const idx = error.segments[want.length];
  return typeof idx === "number" ? idx : null;
}

/** True when the error is about `path` itself or anything under it. */
export function isUnder(error: FieldError, path: string): boolean {
  return error.path === path || error.path.startsWith(`${path}.`) || error.path.startsWith(`${path}[`);
}
