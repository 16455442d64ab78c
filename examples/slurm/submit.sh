#!/usr/bin/env bash
# A sweep (or a report) on a SLURM cluster, start to finish: write the plan of the runs still to
# train, run it as an array job (K tasks at once), wait, then measure and draw with the same
# command, which now trains nothing.
#
#   examples/slurm/submit.sh K train sweep --quick --artifacts /shared/artifacts
#   examples/slurm/submit.sh 8 /shared/bin/train report --artifacts /shared/artifacts
set -euo pipefail
at_once=${1:?usage: submit.sh K TRAIN-COMMAND...}
shift
here=$(dirname "$(readlink -f "$0")")
plan=$(mktemp --tmpdir="${PLAN_DIR:-$PWD}" plan-XXXXXX.txt)
"$@" --plan "$plan" --overwrite
lines=$(wc -l < "$plan")
if [ "$lines" -gt 0 ]; then
  sbatch --wait --array="1-${lines}%${at_once}" "$here/train-array.sh" "$plan"
fi
rm -f "$plan"
"$@"
