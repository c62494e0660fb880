// Writes a gzip'd sibling (`app.js` → `app.js.gz`) of every text asset in dist/ over 1 KiB,
// which the gateway serves to browsers that accept gzip (tower-http's
// ServeDir::precompressed_gzip): compressed once at build time, at the highest level, instead
// of per request. Usage: node scripts/precompress.mjs [dir] (default dist).
import { readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = process.argv[2] ?? join(root, "dist");
const EXTENSIONS = new Set([".js", ".mjs", ".css", ".html", ".svg", ".json", ".txt"]);
const MIN_BYTES = 1024;

function walk(d) {
  return readdirSync(d).flatMap((name) => {
    const path = join(d, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(dir);
const present = new Set(files);
let raw = 0;
let packed = 0;
let count = 0;
for (const path of files) {
  if (path.endsWith(".gz")) {
    // A sibling left from an earlier build whose source is gone (or changed kind): drop it.
    if (!present.has(path.slice(0, -3))) unlinkSync(path);
    continue;
  }
  if (!EXTENSIONS.has(extname(path))) continue;
  const body = readFileSync(path);
  if (body.length < MIN_BYTES) continue;
  const gz = gzipSync(body, { level: constants.Z_BEST_COMPRESSION });
  if (gz.length >= body.length) continue;
  writeFileSync(`${path}.gz`, gz);
  // Same modification time as its source: Last-Modified and ETags agree either way.
  const { atime, mtime } = statSync(path);
  utimesSync(`${path}.gz`, atime, mtime);
  raw += body.length;
  packed += gz.length;
  count++;
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`precompress: ${count} files in ${relative(process.cwd(), dir) || "."}: ${kib(raw)} → ${kib(packed)} gzip`);
