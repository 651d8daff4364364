#!/usr/bin/env bash
# Rebuild a store made by an earlier gitflywheel, kept as a bundle for the tests:
#   format1   tests/data/format1-store.bundle: before stores kept facts (manifest format 1,
#             pipelines at version 1); the upgrade tests verify and re-render it.
#   version2  tests/data/version2-store.bundle: before the charts (build/2, trade/2,
#             life_aria/2, filters/1); the chart tests verify it, every session counted as
#             made by another version, and re-render it.
#   screenshots  tests/data/screenshots-store.bundle: before screenshots were stored under
#             their format's extension (build/4, trade/4, life_aria/3): it holds
#             tests/data/old-screenshots/, a GIF header and a script named pwn.shtml among
#             them; the screenshot tests verify, publish and re-render it.
# It exports that code into a temporary folder with its own venv and ingests examples/
# and ten corpus files (screenshots: tests/data/old-screenshots/) with SOURCE_DATE_EPOCH
# set, so the bundle is the same on every run.
# Usage: bash scripts/make_old_store.sh format1|version2|screenshots
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
case "${1:-}" in
  format1) COMMIT=ba3a999 ;;
  version2) COMMIT=cbb7c3c ;;
  screenshots) COMMIT=0395022 ;;
  *) echo "usage: bash scripts/make_old_store.sh format1|version2|screenshots" >&2; exit 2 ;;
esac
OUT=$ROOT/tests/data/$1-store.bundle
FILES=(
  00ba833d_633cb6a5-70c4-44cd-b00d-299845fa2095_build.json
  01aeb8bd_a61004c6-a427-4304-89ce-1c2d28e45918_build.json
  05b537d3_f9ac5d5b-1263-47e0-a4db-61b2b161c3e7_build.json
  0c0a7fef_agent5_guardrail_implementation_2025-12-02.json
  139b12a4_c12e4149-efcf-4a22-9ac1-d7cf07312301_build.json
  1bc3d5b2_bbc1b9ae-bb77-493b-8020-d60b8e5176e5_build.json
  2169fb0f_example_build_session.json
  72fe669c_example_trade_session.json
  729cbc27_646956dd-afa2-4ebd-9ba2-5df901282b7b_build.json
  81710fb4_00000000-0000-0000-0000-000000000002_trade.json
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/src"
git -C "$ROOT" archive "$COMMIT" | tar -x -C "$tmp/src"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check "$tmp/src"

export SOURCE_DATE_EPOCH=1764633600 GIT_CONFIG_NOSYSTEM=1 HOME=$tmp
unset GITFLYWHEEL_REPO GIT_DIR GIT_WORK_TREE
store=$tmp/store.git
inputs=("$tmp/src/examples")
for name in "${FILES[@]}"; do inputs+=("$tmp/src/tests/data/corpus/dreamos/$name"); done
if [ "$1" = screenshots ]; then inputs=("$ROOT/tests/data/old-screenshots"); fi
"$tmp/venv/bin/gitflywheel" ingest --repo "$store" "${inputs[@]}"
git -C "$store" fsck --strict --no-progress
git -C "$store" bundle create -q "$OUT" HEAD main
echo "wrote $OUT ($(git -C "$store" rev-list --count main) commits, main $(git -C "$store" rev-parse main))"
