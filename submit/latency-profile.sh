#!/usr/bin/env bash
# Stage latency-profile: measures every candidate op of the run's search space at every layer shape (plus stem, head,
# classifier) on the executors -> table latency (median ms per probe), summed by the latency cost model.
#   submit/latency-profile.sh --config conf/fashion-mnist-tiny.conf [--run-root URI] [--run-id ID] [--force] [-Dnas.latency.key=value ...]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.latency.LatencyProfileStage "$@"
