#!/usr/bin/env bash
# The program against the study in stock Burn (crates/trainer/examples/stock.rs), in one run:
# seconds per epoch of cases 1 and 7 (median epoch after the first, two rounds, alternating), the
# test MSE they reach, and whether a run resumed at epoch 2 replays the one trained straight
# through. Usage: benches/stock_vs_program.sh [TRAIN_BINARY]  (builds both first, release).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins --examples --locked >/dev/null
target="${CARGO_TARGET_DIR:-target}/release"
train="${1:-$target/train}"
stock="$target/examples/stock"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
program_seconds() { tail -n +3 "$1" | awk -F, '{print $4 + $5}' | median; }  # epochs 2..
stock_seconds() { grep -o '[0-9.]* s$' "$1" | sed 1d | sed 's/ s$//' | median; }
for round in 1 2; do
  for run in "1 3" "7 5"; do
    set -- $run
    "$train" --case "$1" --epochs "$2" --artifacts "$out/p$round" >/dev/null 2>&1
    "$stock" --case "$1" --epochs "$2" >"$out/s$1-$round.log" 2>&1
    echo "round $round, case $1: program $(program_seconds "$out/p$round/case$1/epochs.csv") s/epoch," \
      "test MSE $(tail -1 "$out/p$round/case$1/epochs.csv" | cut -d, -f3);" \
      "stock $(stock_seconds "$out/s$1-$round.log") s/epoch, $(tail -1 "$out/s$1-$round.log")"
  done
done
for case in 7 1; do
  a="$out/resume"
  "$train" --case $case --limit 5000 --epochs 3 --artifacts "$a" --name straight$case >/dev/null 2>&1
  "$train" --case $case --limit 5000 --epochs 2 --artifacts "$a" --name resumed$case >/dev/null 2>&1
  "$train" --name resumed$case --resume --epochs 3 --artifacts "$a" >/dev/null 2>&1
  # Beyond the file's header (its first few hundred bytes hold each parameter's random id).
  same=$(cmp -l "$a/straight$case/model.bpk" "$a/resumed$case/model.bpk" | awk '$1 > 512' | wc -l)
  losses=$(diff -q <(cut -d, -f1-3 "$a/straight$case/epochs.csv") <(cut -d, -f1-3 "$a/resumed$case/epochs.csv") >/dev/null && echo identical || echo different)
  echo "program, case $case resumed at epoch 2: weight bytes differing $same, logged losses $losses"
  "$stock" --case $case --limit 5000 --epochs 3 | grep '^epoch 3' | sed 's/^/stock straight: /'
  "$stock" --case $case --limit 5000 --epochs 2 >/dev/null
  "$stock" --case $case --limit 5000 --epochs 3 --resume 2 | grep '^epoch 3' | sed 's/^/stock resumed:  /'
done
