#!/usr/bin/env bash
# Benchmark (prints figures; not a test): retraining through dl4j-spark against the supernet engine's fixed-path training
# of the same architecture, and a memory soak (resident memory per epoch of --models models x --epochs epochs).
# Lines starting with RATIO, RESIDENT and MEMORY are the results.
#   submit/bench-retrain.sh [--config conf/fashion-mnist-tiny.conf] [--run-root /tmp/bench] [--models 10] [--epochs 3] [-Dnas.key=value ...]
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
args=("$@")
[[ " $* " == *" --config "* ]] || args=(--config "$here/conf/fashion-mnist-tiny.conf" "${args[@]}")
[[ " $* " == *" --run-root "* ]] || args=(--run-root "${TMPDIR:-/tmp}/spark-nas-bench" "${args[@]}")
exec "$here/submit/run-stage" io.sparknas.jobs.bench.RetrainBench --master 'local[2]' "${args[@]}"
