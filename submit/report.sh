#!/usr/bin/env bash
# Stage report: an HTML page with PNG charts of a run (Pareto fronts, ranking, training curves) and a method comparison
# table -> <run>/report/index.html, *.png, table summary.
#   submit/report.sh --config conf/fashion-mnist-tiny.conf [--compare RUN_ID,RUN_ID] [--run-root URI] [--run-id ID] [--force]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.report.ReportStage "$@"
