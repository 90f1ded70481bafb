#!/usr/bin/env bash
# Stage easiness (DA-NAS section 4): reference networks trained with dl4j-spark (or given model zips) score every train image
# by the entropy of their softmax; classes ranked by the mean of the networks' per-class entropy histograms
# -> tables sample_entropy, class_easiness, network_agreement, network_accuracy.
#   submit/easiness.sh --config conf/fashion-mnist-tiny.conf [--run-root URI] [--run-id ID] [--force] [-Dnas.easiness.key=value ...]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.easiness.EasinessStage "$@"
