#!/usr/bin/env bash
# Stage supernet-train: parameter-averaged training of the weight-sharing supernet on the train split, planned by the run's
# method (nas.run.method: spos / padnas uniform sampling, danas: class schedule, Gumbel-softmax weights, pruning)
# -> tables supernet, train_metrics, path_eval, space, arch_params.
#   submit/supernet-train.sh --config conf/fashion-mnist-tiny.conf [--run-root URI] [--run-id ID] [--force | --resume] [-Dnas.supernet.key=value ...]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.supernet.SupernetTrainStage "$@"
