#!/bin/bash
# Compile a corpus in N shards with GNU parallel: on one machine (one shard per core, each with
# one worker), or across machines with --sshlogin. Every shard is a dataset of its own; merge
# joins them into the dataset one run would have made, byte for byte.
#   ./gnu-parallel.sh heads out 8
# The shard number is parallel's argument ({}), so no environment is needed: --shard {}/N.
# A shard that failed or was interrupted is finished by running the same line again (--resume).
set -euo pipefail
corpus=$1 out=$2 shards=${3:-$(nproc)}
seq 1 "$shards" | parallel --halt now,fail=1 --jobs "$(nproc)" \
  npx headsnet compile "$corpus" -o "$out/shard-{}" --shard "{}/$shards" -j 1 --resume --overwrite --quiet
npx headsnet merge "$out"/shard-* -o "$out/dataset" --overwrite
npx headsnet verify "$out/dataset"
