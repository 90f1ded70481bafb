#!/usr/bin/env bash
# Stage prune (PAD-NAS): drops the ops of search stage k whose estimated probability is <= nas.padnas.prune-threshold
# -> tables pruned_space (trained by supernet-train --stage-index k+1), pruning.
#   submit/prune.sh --config conf/fashion-mnist-tiny.conf --stage-index K [--run-root URI] [--run-id ID] [--force] [-Dnas.padnas.key=value ...]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.prune.PruneStage "$@"
