#!/usr/bin/env bash
# One SLURM array task per line of a plan that `train sweep … --plan PLAN` or
# `train report … --plan PLAN` wrote: line N trains one run, continuing it from its checkpoint
# when it was stopped before, doing nothing when it is finished.
#
#   sbatch --array=1-$(wc -l < PLAN)%4 examples/slurm/train-array.sh PLAN
#
# The artifacts directory, the binary and MNIST must be where the plan says, on every node (a
# shared file system). Each task trains on the cores SLURM gives it (--cpus-per-task). SIGTERM
# (two minutes before the time limit, or when the task is requeued or cancelled) stops the run
# after its current step, keeping its checkpoints; the task's next start continues it.
#SBATCH --job-name=burn-ae
#SBATCH --cpus-per-task=1
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
#SBATCH --output=slurm-%x-%A_%a.out
#SBATCH --open-mode=append
set -euo pipefail
plan=${1:?usage: sbatch --array=1-N%K train-array.sh PLAN}
line=$(sed -n "${SLURM_ARRAY_TASK_ID}p" "$plan")
[ -n "$line" ] || { echo "no line ${SLURM_ARRAY_TASK_ID} in $plan" >&2; exit 2; }
export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
echo "task ${SLURM_ARRAY_TASK_ID} on $(hostname): $line"
eval "exec $line"
