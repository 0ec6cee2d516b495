#!/bin/sh
# Rebuilds models/demo/zt4ai-demo-kjv.gguf from scratch: vocabulary, training, export, verification.
# Needs the Debian packages listed in README.md. MINUTES (default 9) is the training budget.
set -eu
cd "$(dirname "$0")/../.."
WORK=scripts/demo-model/work
mkdir -p "$WORK" models/demo
npx tsx scripts/demo-model/vocab-json.ts "$WORK/vocab.json"
# Debian's interpreter explicitly: python3-torch is installed for it, not for a pyenv or venv python.
/usr/bin/python3 scripts/demo-model/train.py --vocab "$WORK/vocab.json" --out "$WORK/kjv" --minutes "${MINUTES:-9}" --bf16 | tee "$WORK/train.log"
npx tsx scripts/demo-model/export-gguf.ts "$WORK/kjv" models/demo/zt4ai-demo-kjv.gguf
npx tsx scripts/demo-model/verify.ts models/demo/zt4ai-demo-kjv.gguf "$WORK/kjv"
