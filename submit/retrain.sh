#!/usr/bin/env bash
# Stage retrain: trains found architectures from scratch with dl4j-spark (parameter averaging) and evaluates them on test
# -> tables final_models, confusion, retrain_metrics; models/model-<n>.zip (DL4J ModelSerializer).
#   submit/retrain.sh --config conf/fashion-mnist-tiny.conf [--arch ID] [--run-root URI] [--run-id ID] [--force] [-Dnas.retrain.key=value ...]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.retrain.RetrainStage "$@"
