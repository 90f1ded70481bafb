#!/usr/bin/env bash
# The whole pipeline, one spark-submit per stage (each can also be run alone from its own script):
#   submit/pipeline.sh [--method spos|padnas|danas|ddpnas|dsonas] [--from STAGE] [--dry-run]
#                      [--config FILE] [--run-root URI] [--run-id ID] [--force] [-Dnas.key=value ...] [--master URL]
# spos:   ingest, latency-profile, supernet-train, search, retrain, ranking, report.
# padnas: ingest, latency-profile, supernet-train, then M-2 times search-k, prune-k, supernet-train-(k+1), then search-(M-1),
#         retrain, ranking, report of the last search (M = nas.padnas.stages; PAD-NAS Algorithm 1). Stage k >= 2 runs the
#         same script with --stage-index k (retrain-k, ranking-k and report-k read search-k).
# danas:  ingest, easiness, supernet-train (DA-NAS strategy: class schedule, Gumbel-softmax weights, pruning), search (the
#         read-off: argmax of the logits -> generated_archs), retrain, report. With nas.danas.schedule = all, no easiness;
#         with nas.danas.cost = latency, latency-profile before supernet-train.
# ddpnas: ingest, supernet-train (DDPNAS strategy: disjoint sampling, distribution updates, pruning), search (ENG: one
#         architecture per nas.ddpnas.generation.constraints entry -> generated_archs), retrain (all of them), report; with
#         a latency constraint, latency-profile before supernet-train.
# dsonas: ingest, supernet-train (DSO-NAS strategy: pre-training on D_w, then lambda steps by APG-NAG on D_lambda interleaved
#         with weight steps), search (the read-off: every op with lambda != 0 -> generated_archs), retrain, report; with
#         nas.dsonas.budget = latency, latency-profile before supernet-train.
# Without --run-id (and without nas.run.id in the config) a new id run-YYYYMMDD-HHMMSS is used for every stage.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$here/jobs/target/spark-nas-jobs.jar"

method=""
from=""
dry_run=0
args=()
query_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --method) method="$2"; shift 2 ;;
    --from) from="$2"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --master) args+=("$1" "$2"); shift 2 ;;
    --config|--run-root|--run-id) args+=("$1" "$2"); query_args+=("$1" "$2"); shift 2 ;;
    -D) args+=("$1" "$2"); query_args+=("$1" "$2"); shift 2 ;;
    -D*) args+=("$1"); query_args+=("$1"); shift ;;
    --force|--resume) args+=("$1"); shift ;;
    *) echo "pipeline: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [[ -n "$method" ]]; then
  args+=("-Dnas.run.method=$method"); query_args+=("-Dnas.run.method=$method")
fi

if [[ ! -f "$jar" ]]; then
  echo "pipeline: $jar is missing: build the project first (mvn -B -q package -DskipTests)" >&2
  exit 2
fi
# Validate the configuration once, before any stage, and learn the run root, id, method and its stages (the method's
# descriptor plans them: io.sparknas.search.method.NasMethod#stagePlan, the same list the Airflow DAGs run).
query_err="$(mktemp)"
trap 'rm -f "$query_err"' EXIT
if ! query_out="$(java -cp "$jar" io.sparknas.jobs.cli.ConfigQuery "${query_args[@]}" --stages ingest,easiness,latency-profile,supernet-train,search,prune,retrain,ranking,report \
  nas.run.root nas.run.id nas.run.method nas.catalog.register stage-plan 2>"$query_err")"; then
  # the cause as the last line, as every stage ends
  echo "pipeline: invalid configuration: $(tail -n 1 "$query_err" | sed 's/^spark-nas config: //')" >&2
  exit 2
fi
mapfile -t resolved <<<"$query_out"
[[ ${#resolved[@]} -eq 5 ]] || { echo "pipeline: the configuration check printed ${#resolved[@]} values, expected 5: is the jar older than this script? rebuild it" >&2; exit 2; }
root="${resolved[0]}"; run_id="${resolved[1]}"; method="${resolved[2]}"; register="${resolved[3]}"
# A stage token is a script name, with -k for stage index k >= 2 (supernet-train-2, search-2, prune-2).
read -r -a stages <<<"${resolved[4]}"
if [[ -n "$from" ]]; then
  found=0; rest=()
  for s in "${stages[@]}"; do [[ "$s" == "$from" ]] && found=1; [[ $found == 1 ]] && rest+=("$s"); done
  if [[ $found == 0 ]]; then echo "pipeline: --from $from is not a stage of this pipeline (${stages[*]})" >&2; exit 2; fi
  stages=("${rest[@]}")
fi

if [[ -z "$run_id" ]]; then
  run_id="run-$(date +%Y%m%d-%H%M%S)"
  args+=(--run-id "$run_id")
fi
echo "pipeline: method $method, run $run_id under $root, stages: ${stages[*]}" >&2

# stage token -> script and --stage-index arguments
script_of() { echo "$here/submit/$(sed -E 's/-[0-9]+$//' <<<"$1").sh"; }
index_args() { if [[ "$1" =~ -([0-9]+)$ ]]; then echo "--stage-index ${BASH_REMATCH[1]}"; fi; }
t_start=$(date +%s)
headlines="$(mktemp)"
trap 'rm -f "$headlines"' EXIT
for s in "${stages[@]}"; do
  # shellcheck disable=SC2207
  cmd=("$(script_of "$s")" $(index_args "$s") "${args[@]}")
  if [[ $dry_run == 1 ]]; then
    printf '%q ' "${cmd[@]}"; echo
    continue
  fi
  echo "pipeline: stage $s" >&2
  t0=$(date +%s)
  rc=0
  if [[ "$s" == report* ]]; then
    # the report's headline lines are printed again at the end
    "${cmd[@]}" | tee "$headlines" || rc=${PIPESTATUS[0]}
  else
    "${cmd[@]}" || rc=$?
  fi
  if [[ $rc != 0 ]]; then
    echo "pipeline: stage $s failed (exit $rc); earlier stages stay committed: re-run with --from $s" >&2
    exit $rc
  fi
  echo "pipeline: stage $s done in $(( $(date +%s) - t0 )) s" >&2
done
# Not a stage: it writes nothing in the run, and registering again is always safe (nas.catalog.register)
if [[ "$register" == true ]]; then
  cmd=("$here/submit/register-tables.sh" "${args[@]}")
  if [[ $dry_run == 1 ]]; then
    printf '%q ' "${cmd[@]}"; echo
  else
    echo "pipeline: registering the run's tables in the catalog" >&2
    "${cmd[@]}" || { rc=$?; echo "pipeline: registering the tables failed (exit $rc); the run's stages are committed: re-run submit/register-tables.sh" >&2; exit $rc; }
  fi
fi
if [[ $dry_run == 0 ]]; then
  echo
  echo "Run $run_id finished in $(( $(date +%s) - t_start )) s. Results: $root/$run_id"
  for s in "${stages[@]}"; do [[ "$s" == report* ]] && echo "Report: $root/$run_id/$s/index.html"; done
  sed -n 's/^  headline: /Result: /p' "$headlines"
  echo "Query its tables: submit/nas-sql --run-root $root --run-id $run_id \"show tables\""
fi
