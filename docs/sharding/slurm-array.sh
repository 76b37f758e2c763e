#!/bin/bash
# Compile a corpus in 32 shards with a Slurm job array, then merge them.
#   sbatch slurm-array.sh /shared/corpus /shared/out
# headsnet --shard auto reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT.
# A task that is requeued resumes its shard (--resume).
#SBATCH --job-name=headsnet
#SBATCH --array=0-31
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=00:30:00
set -euo pipefail
corpus=$1 out=$2
cd "${HEADSNET_HOME:-$HOME/headsnet}"      # a clone of headsnet after `npm ci`
node bin/headsnet.js compile "$corpus" -o "$out/shard-$SLURM_ARRAY_TASK_ID" \
  --shard auto -j "$SLURM_CPUS_PER_TASK" --resume --overwrite --quiet
# Then, once every task has finished (e.g. sbatch --dependency=afterok:<jobid> merge.sh):
#   node bin/headsnet.js merge "$out"/shard-* -o "$out/dataset"
