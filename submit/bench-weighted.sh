#!/usr/bin/env bash
# Benchmark (prints figures; not a test): one weighted supernet step (every candidate, DA-NAS / DSO-NAS) against the sum
# of its candidates' single-path steps on the same batches. The RATIO line is the result (target <= 1.1).
#   [BENCH_STEPS=8] submit/bench-weighted.sh [--config conf/fashion-mnist.conf] [--run-root /tmp/bench] [-Dnas.space.family=shuffle-mobile]
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
args=("$@")
[[ " $* " == *" --config "* ]] || args=(--config "$here/conf/fashion-mnist-tiny.conf" "${args[@]}")
[[ " $* " == *" --run-root "* ]] || args=(--run-root "${TMPDIR:-/tmp}/spark-nas-bench" "${args[@]}")
[[ " $* " == *" --run-id "* ]] || args=(--run-id bench-weighted "${args[@]}")
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "$here/submit/run-stage" io.sparknas.jobs.bench.WeightedStepBench --master 'local[1]' "${args[@]}"
