#!/usr/bin/env bash
# GPU sweep: the study's seven cases at full length on wgpu (and on cuda where that feature
# builds), beside flex, in one table: seconds per epoch, total seconds and final test MSE per case.
#
#   benches/gpu.sh                                  # all seven cases, full length, wgpu,cuda,flex
#   benches/gpu.sh --backends wgpu --cases 1,7      # a subset
#   benches/gpu.sh --limit 300 --epochs 1           # a smoke test (CI runs this on Mesa's llvmpipe)
#
# Options: --backends LIST (default wgpu,cuda,flex), --cases LIST (default 1,2,3,4,5,6,7),
# --limit N, --epochs N (default: each case's own), --out DIR (default artifacts/gpu-sweep).
# Runs go to DIR/<backend>-case<N>/ (replaced on each sweep); the table also goes to DIR/sweep.md.
# A backend that cannot run here (no adapter, cuda not buildable) is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

backends="wgpu,cuda,flex"
cases="1,2,3,4,5,6,7"
out="artifacts/gpu-sweep"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --backends) backends="$2"; shift 2 ;;
    --cases) cases="$2"; shift 2 ;;
    --limit) extra+=(--limit "$2"); shift 2 ;;
    --epochs) extra+=(--epochs "$2"); shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"

# One build per feature set; cuda needs its own (and network access the first time it builds).
features_of() { [ "$1" = cuda ] && echo "--features cuda" || true; }

ran=()
declare -A skipped
for backend in ${backends//,/ }; do
  features=$(features_of "$backend")
  # shellcheck disable=SC2086
  if ! cargo build --release -p train $features --quiet 2>"$out/build-$backend.log"; then
    skipped[$backend]="does not build here (see $out/build-$backend.log)"
    continue
  fi
  for case in ${cases//,/ }; do
    name="$backend-case$case"
    echo "--- case $case on $backend"
    # shellcheck disable=SC2086
    if ! cargo run --release --quiet -p train $features -- --case "$case" --backend "$backend" \
        --name "$name" --artifacts "$out" --overwrite "${extra[@]}" 2>"$out/$name.err"; then
      skipped[$backend]="failed: $(tail -n 1 "$out/$name.err")"
      break
    fi
  done
  [ -z "${skipped[$backend]:-}" ] && ran+=("$backend")
done

# The table: per case and backend, mean seconds per epoch (the first epoch apart when there are
# several: it compiles and tunes GPU kernels), total seconds, final test MSE.
{
  echo "| case | backend | epochs | s/epoch (after the first) | first epoch s | total s | final test MSE |"
  echo "|---:|---|---:|---:|---:|---:|---:|"
  for case in ${cases//,/ }; do
    for backend in "${ran[@]}"; do
      csv="$out/$backend-case$case/epochs.csv"
      [ -f "$csv" ] || continue
      awk -F, -v c="$case" -v b="$backend" 'NR > 1 {
          n++; s = $4 + $5; total += s; if (n == 1) first = s; else rest += s; mse = $3 }
        END {
          steady = (n > 1) ? sprintf("%.2f", rest / (n - 1)) : "–"
          printf "| %s | %s | %d | %s | %.2f | %.1f | %.5f |\n", c, b, n, steady, first, total, mse
        }' "$csv"
    done
  done
  for backend in "${!skipped[@]}"; do
    echo
    echo "$backend: skipped — ${skipped[$backend]}"
  done
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) threads;" \
    "GPU: $(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader | head -n1 || echo 'none found by nvidia-smi')"
} | tee "$out/sweep.md"
# Total GPU seconds of the sweep, the number the 60 s goal is about.
for backend in "${ran[@]}"; do
  [ "$backend" = flex ] && continue
  total=$(for case in ${cases//,/ }; do cat "$out/$backend-case$case/epochs.csv"; done 2>/dev/null |
    awk -F, '$1 ~ /^[0-9]+$/ { t += $4 + $5 } END { printf "%.1f", t }')
  echo "$backend: all cases together $total s of training and testing" | tee -a "$out/sweep.md"
done
