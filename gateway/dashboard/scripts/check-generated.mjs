// Regenerates the TypeScript client into a temporary directory and compares it with the
// committed src/gen: exits 1 (listing the differences) when they differ.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const committed = join(root, "src", "gen");
const tmp = mkdtempSync(join(tmpdir(), "sluice-gen-"));

function files(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else out.push(path);
  }
  return out;
}

let status = 0;
try {
  const buf = join(root, "node_modules", ".bin", process.platform === "win32" ? "buf.cmd" : "buf");
  const bin = join(root, "node_modules", ".bin");
  execFileSync(buf, ["generate", "--template", "buf.gen.yaml", "--output", tmp], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
  });
  const fresh = join(tmp, "src", "gen");
  const a = new Set(files(committed).map((f) => relative(committed, f)));
  const b = new Set(files(fresh).map((f) => relative(fresh, f)));
  const problems = [];
  for (const f of b) {
    if (!a.has(f)) problems.push(`missing from src/gen: ${f}`);
    else if (!readFileSync(join(committed, f)).equals(readFileSync(join(fresh, f))))
      problems.push(`differs: src/gen/${f}`);
  }
  for (const f of a) if (!b.has(f)) problems.push(`stale (no longer generated): src/gen/${f}`);
  if (problems.length > 0) {
    console.error("src/gen is out of date with ../../proto; run `npm run generate`:");
    for (const p of problems) console.error(`  ${p}`);
    status = 1;
  } else {
    console.log(`src/gen is up to date (${b.size} files)`);
  }
} catch (err) {
  console.error(`check-generated failed: ${err instanceof Error ? err.message : String(err)}`);
  status = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
