#!/usr/bin/env bash
# Stage ingest: IDX files or an ImageNet-layout tree -> tables images, classes, rejects.
#   submit/ingest.sh --config conf/fashion-mnist-tiny.conf [--run-root URI] [--run-id ID] [--force] [-Dnas.ingest.key=value ...]
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.ingest.IngestStage "$@"
