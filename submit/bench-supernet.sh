#!/usr/bin/env bash
# Benchmark (prints figures; not a test): chained single-path training vs a plain ComputationGraph of the same path,
# supernet-train with 1 vs 2 tasks, and the share of a round outside task compute. Lines starting with RATIO are the results.
#   submit/bench-supernet.sh [--config conf/fashion-mnist.conf] [--run-root /tmp/bench] [-Dnas.key=value ...]
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
args=("$@")
[[ " $* " == *" --config "* ]] || args=(--config "$here/conf/fashion-mnist-tiny.conf" "${args[@]}")
[[ " $* " == *" --run-root "* ]] || args=(--run-root "${TMPDIR:-/tmp}/spark-nas-bench" "${args[@]}")
exec "$here/submit/run-stage" io.sparknas.jobs.bench.SupernetBench --master 'local[2]' "${args[@]}"
