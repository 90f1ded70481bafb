#!/usr/bin/env bash
# Stage ranking: N architectures along a search's Pareto front trained from scratch for a short budget; Kendall tau between
# supernet and stand-alone accuracy -> table ranking.
#   submit/ranking.sh --config conf/fashion-mnist-tiny.conf [--run-root URI] [--run-id ID] [--force] [-Dnas.ranking.key=value ...]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.retrain.RankingStage "$@"
