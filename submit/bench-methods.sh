#!/usr/bin/env bash
# Benchmark (prints figures; not a test): the methods compared on one preset, each run to its retrained architectures.
# Hours on the full preset (conf/fashion-mnist.conf, 2 cores): DDPNAS about 3, SPOS at three bounds about 4, DA-NAS about
# 2.5 and its 'All' row about 4, DSO-NAS 5-15 per gamma. Every run goes through the stage scripts with --resume, so after an
# interruption the same command continues: committed stages are skipped, a half-written one resumes from its checkpoint.
#   submit/bench-methods.sh [--config conf/fashion-mnist.conf] [--run-root DIR] [--prefix bench] [--only LIST]
#                           [--gammas G1,G2] [--summary] [--dry-run] [-Dnas.key=value ...]
# Runs (LIST: a comma-separated subset of ddpnas, spos, danas, danas-all, dsonas; default all, in this order):
#   PREFIX-ddpnas         DDPNAS, ENG for every nas.ddpnas.generation.constraints entry, all retrained (issue 18)
#   PREFIX-spos-BOUND     SPOS + CES at each of those bounds (same cost kind, cost-min 0, cost-max BOUND), the front's most
#                         accurate architecture retrained; the first run trains the supernet, the others start from a copy
#                         of its ingest and supernet-train (issue 18's comparison)
#   PREFIX-danas          DA-NAS: easy -> all classes, pruning (issue 17)
#   PREFIX-danas-all      DA-NAS with neither scheduling nor pruning (paper Table 6's x/x row): all classes from the start
#   PREFIX-dsonas-G       DSO-NAS with nas.dsonas.sparsity = G for each G of --gammas (default: the config's and 4x it);
#                         the first pre-trains, the others search from its pre-training (issue 19)
# Then (alone with --summary) prints one line per retrained architecture, starting with FIGURE:
#   run, method, search hours (every stage before retrain: ingest excluded; a SPOS run after the first counts the
#   supernet-train it copied; a DSO-NAS run after the first does not count the pre-training it shares), architecture
#   cost, test accuracy.
# The run root must be a local path (the summary reads the _stage.json files directly).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$here/jobs/target/spark-nas-jobs.jar"
config="$here/conf/fashion-mnist.conf"
run_root=""
prefix="bench"
only="ddpnas,spos,danas,danas-all,dsonas"
gammas=""
summary_only=0
dry_run=0
overrides=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --run-root) run_root="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --gammas) gammas="$2"; shift 2 ;;
    --summary) summary_only=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -D*) overrides+=("$1"); shift ;;
    *) echo "bench-methods: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
for m in ${only//,/ }; do
  case "$m" in ddpnas|spos|danas|danas-all|dsonas) ;; *) echo "bench-methods: --only: unknown run '$m' (ddpnas, spos, danas, danas-all, dsonas)" >&2; exit 2 ;; esac
done
if [[ ! -f "$jar" ]]; then
  echo "bench-methods: $jar is missing: build the project first (mvn -B -q package -DskipTests)" >&2
  exit 2
fi
query=(--config "$config" "${overrides[@]}")
[[ -n "$run_root" ]] && query+=(--run-root "$run_root")
mapfile -t resolved < <(java -cp "$jar" io.sparknas.jobs.cli.ConfigQuery "${query[@]}" nas.run.root nas.ddpnas.generation.constraints nas.dsonas.sparsity)
[[ ${#resolved[@]} -eq 3 ]] || { echo "bench-methods: the configuration check failed (see above)" >&2; exit 2; }
root="${resolved[0]}"; constraints="${resolved[1]}"; sparsity="${resolved[2]}"
case "$root" in s3a://*|hdfs://*) echo "bench-methods: --run-root $root: use a local path (the summary reads _stage.json files)" >&2; exit 2 ;; esac
root="${root#file://}"
[[ -n "$gammas" ]] || gammas="$sparsity,$(awk -v g="$sparsity" 'BEGIN { printf "%g", 4 * g }')"
common=(--config "$config" --run-root "$root" --resume "${overrides[@]}")

# "[flops <= 6.5, flops <= 8.0]" -> "flops 6.5" lines; an entry with several bounds has no single CES band: skipped
bounds=()
IFS=',' read -ra entries <<<"${constraints#[}"
for e in "${entries[@]}"; do
  e="${e%]}"
  if [[ "$e" =~ ^[[:space:]]*(flops|params|latency)[[:space:]]*\<=[[:space:]]*([0-9.]+)[[:space:]]*$ ]]; then
    bounds+=("${BASH_REMATCH[1]} ${BASH_REMATCH[2]}")
  elif [[ -n "${e// /}" ]]; then
    echo "bench-methods: constraint '$e' is not one bound of flops, params or latency: no SPOS run for it" >&2
  fi
done

# --dry-run prints each command instead of running it
run() { if [[ $dry_run == 1 ]]; then printf '%q ' "$@"; echo; else "$@"; fi; }
stage() {  # stage SCRIPT RUN_ID [args...]
  local script="$1" id="$2"; shift 2
  local t0; t0=$(date +%s)
  if [[ $dry_run == 1 ]]; then run "$here/submit/$script.sh" "${common[@]}" --run-id "$id" "$@"; return; fi
  echo "bench-methods: $id: $script" >&2
  "$here/submit/$script.sh" "${common[@]}" --run-id "$id" "$@"
  echo "bench-methods: $id: $script done in $(( $(date +%s) - t0 )) s" >&2
}
pipeline() {  # pipeline METHOD RUN_ID [args...]
  local method="$1" id="$2"; shift 2
  run "$here/submit/pipeline.sh" --method "$method" "${common[@]}" --run-id "$id" "$@"
}
# A copy of a committed stage into another run (the run id inside _stage.json stays the source's: readers check the
# stage's tables and hashes, not the id).
copy_stage() {  # copy_stage FROM_RUN TO_RUN STAGE_DIR
  if [[ $dry_run == 1 ]]; then echo "copy $root/$1/$3 -> $root/$2/$3"; return; fi
  if [[ ! -f "$root/$2/$3/_stage.json" ]]; then
    rm -rf "${root:?}/$2/$3"; mkdir -p "$root/$2"; cp -r "$root/$1/$3" "$root/$2/$3"
  fi
}

if [[ $summary_only == 0 ]]; then
  for m in ${only//,/ }; do
    case "$m" in
      ddpnas) pipeline ddpnas "$prefix-ddpnas" ;;
      spos)
        first=""
        for b in "${bounds[@]}"; do
          kind="${b% *}"; bound="${b#* }"; id="$prefix-spos-$bound"
          search=(-Dnas.run.method=spos "-Dnas.search.cost=$kind" -Dnas.search.cost-min=0 "-Dnas.search.cost-max=$bound")
          if [[ -z "$first" ]]; then
            first="$id"
            for s in ingest latency-profile supernet-train; do stage "$s" "$id" "${search[@]}"; done
          else
            for s in ingest latency-profile supernet-train; do copy_stage "$first" "$id" "$s"; done
          fi
          stage search "$id" "${search[@]}"
          stage retrain "$id" "${search[@]}"
        done ;;
      danas) pipeline danas "$prefix-danas" ;;
      danas-all) pipeline danas "$prefix-danas-all" -Dnas.danas.schedule=all -Dnas.danas.prune=false ;;
      dsonas)
        # the first gamma pre-trains; the others start their search from its kept pre-training (nas.dsonas.pretrained-run:
        # pre-training does not read gamma, and the result equals pre-training again) and from a copy of its ingest
        first=""
        for g in ${gammas//,/ }; do
          id="$prefix-dsonas-$g"
          if [[ -z "$first" ]]; then
            first="$id"
            pipeline dsonas "$id" "-Dnas.dsonas.sparsity=$g"
          else
            copy_stage "$first" "$id" ingest
            pipeline dsonas "$id" "-Dnas.dsonas.sparsity=$g" "-Dnas.dsonas.pretrained-run=$first"
          fi
        done ;;
    esac
  done
fi

[[ $dry_run == 1 ]] && exit 0
# The figures: stage times from _stage.json, the retrained architectures from final_models (one SQL session per run).
echo "bench-methods: figures of the runs $prefix-* under $root" >&2
for dir in "$root/$prefix"-*/; do
  id="$(basename "$dir")"
  [[ -f "$dir/retrain/_stage.json" ]] || { echo "bench-methods: $id: no committed retrain yet" >&2; continue; }
  hours="$(python3 - "$dir" <<'EOF'
import datetime, json, os, sys
run = sys.argv[1]
def t(s): return datetime.datetime.fromisoformat(s.rstrip('Z')[:26])
total = 0.0; parts = []
for name in sorted(os.listdir(run)):
    f = os.path.join(run, name, '_stage.json')
    if name in ('ingest', 'retrain', 'ranking', 'report') or not os.path.isfile(f):
        continue
    d = json.load(open(f))
    # work over all attempts of a resumed stage (elapsed_seconds); the last attempt's wall time for stages committed before it
    sec = float(d.get('properties', {}).get('elapsed_seconds') or (t(d['ended_at']) - t(d['started_at'])).total_seconds())
    total += sec; parts.append('%s %.0f s' % (name, sec))
f = os.path.join(run, 'supernet-train', '_stage.json')
shared = json.load(open(f)).get('properties', {}).get('pretrained_from', '') if os.path.isfile(f) else ''
print('%.2f h (%s)' % (total / 3600, ', '.join(parts) + ('; pre-training shared with ' + shared + ', not counted' if shared else '')))
EOF
)"
  method="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["method"])' "$dir/retrain/_stage.json")"
  "$here/submit/nas-sql" --config "$config" --run-root "$root" --run-id "$id" --format tsv \
    "SELECT model, round(mflops, 2), round(mparams, 3), round(latency_ms, 1), round(test_accuracy, 4), arch FROM retrain_final_models ORDER BY model" 2>/dev/null \
    | while IFS=$'\t' read -r model mflops mparams latency acc arch; do
        [[ "$model" =~ ^[0-9]+$ ]] || continue
        [[ "$latency" == NULL ]] && latency="?"
        echo "FIGURE $id method $method search $hours | model $model: $mflops MFLOPs, $mparams M params, $latency ms, test accuracy $acc | $arch"
      done
done
