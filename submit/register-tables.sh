#!/usr/bin/env bash
# Registers a run's committed tables in Spark's persistent catalog: database nas_<run id>, one external table
# <stage>_<table> each, on the embedded Derby metastore of nas.catalog.metastore (default ./catalog) or the cluster's own.
#   submit/register-tables.sh --run-id ID [--run-root URI] [--config FILE] [-Dnas.catalog.metastore=DIR]
# Then: submit/nas-sql --catalog "SELECT * FROM nas_<run>.search_pareto_front", or any Spark session on that metastore.
exec "$(dirname "${BASH_SOURCE[0]}")/run-stage" io.sparknas.jobs.catalog.RegisterTablesJob "$@"
