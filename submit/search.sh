#!/usr/bin/env bash
# Stage search: Constrained Evolutionary Search (NSGA-II, PAD-NAS CES) over the supernet of supernet-train stage k, with
# architectures evaluated on the executors -> tables candidates, pareto_front, op_distribution. For a DA-NAS supernet, the
# read-off instead: per layer the live candidate with the highest logit -> table generated_archs.
#   submit/search.sh --config conf/fashion-mnist-tiny.conf [--stage-index K] [--run-root URI] [--run-id ID] [--force | --resume] [-Dnas.search.key=value ...]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.search.SearchStage "$@"
