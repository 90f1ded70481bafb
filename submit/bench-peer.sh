#!/usr/bin/env bash
# Engine benchmark (prints figures; not a test): the project's SPOS training, fixed-path training and path evaluation
# against the libtorch peer (../shared/peers/libtorch) on the same machine, space (MobileNetV2 basic, width 0.5, 28x28x1)
# and batch (64). Lines starting with RATIO are the results.
#   submit/bench-peer.sh [--peer-dir DIR] [--peer-threads N] [--config FILE] [-Dnas.key=value ...]
# The peer is built from a copy in target/peer (mvn, downloads libtorch once); without it the peer part is skipped.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peer_dir="$here/../shared/peers/libtorch"
peer_threads=2
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --peer-dir) peer_dir="$2"; shift 2 ;;
    --peer-threads) peer_threads="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ " ${args[*]:-} " == *" --config "* ]] || args=(--config "$here/conf/fashion-mnist-tiny.conf" "${args[@]}")
[[ " ${args[*]} " == *" --run-root "* ]] || args=(--run-root "${TMPDIR:-/tmp}/spark-nas-bench" "${args[@]}")
defaults=(-Dnas.run.id=engine -Dnas.space.width=0.5 -Dnas.supernet.batch-size=64 -Dnas.ingest.val-per-class=500)

best_spos=0; best_fixed=0; best_config=""; eval_s=""; eval_config=""; eval2_s=""
consider() {  # consider CONFIG SPOS_IMAGES_PER_S
  if awk "BEGIN{exit !($2 > $best_spos)}"; then best_spos=$2; best_config="$1"; fi
}
for t in 1 2; do
  echo "== project, OMP_NUM_THREADS=$t"
  out=$(mktemp); log=$(mktemp)
  if ! OMP_NUM_THREADS=$t "$here/submit/run-stage" io.sparknas.jobs.bench.EngineBench --master 'local[2]' "${defaults[@]}" "${args[@]}" \
      > "$out" 2> "$log"; then
    tail -20 "$log" >&2; echo "bench-peer: the project benchmark failed (log: $log)" >&2; exit 1
  fi
  cat "$out"; line=$(grep '^ENGINE project' "$out"); rm -f "$out" "$log"
  spos=$(sed -E 's/.* spos=([0-9.]+).*/\1/' <<<"$line"); fixed=$(sed -E 's/.* fixed=([0-9.]+).*/\1/' <<<"$line")
  spos2=$(sed -E 's/.* spos2=([0-9.NaN]+).*/\1/' <<<"$line")
  e=$(sed -E 's/.* eval_s=([0-9.]+).*/\1/' <<<"$line"); e2=$(sed -E 's/.* eval2_s=([0-9.NaN]+).*/\1/' <<<"$line")
  if awk "BEGIN{exit !($fixed > $best_fixed)}"; then best_fixed=$fixed; fi
  if [[ -z "$eval_s" ]] || awk "BEGIN{exit !($e < $eval_s)}"; then eval_s=$e; eval_config="1 task x $t native thread(s)"; fi
  [[ "$e2" == NaN ]] || eval2_s=$e2
  consider "1 task x $t native thread(s)" "$spos"
  [[ "$spos2" == NaN ]] || consider "2 tasks x 1 native thread" "$spos2"
done
echo "project best: $best_config: SPOS $best_spos images/s; best fixed path $best_fixed images/s"
echo "RATIO path evaluation seconds = $eval_s (target <= 3 s; one path at a time, best: $eval_config)"
echo "RATIO path evaluation seconds per path, 2 tasks x 1 native thread evaluating two paths at once (the search stage on local[2]) = ${eval2_s:-n/a}"

if [[ ! -f "$peer_dir/pom.xml" ]]; then
  echo "bench-peer: no libtorch peer at $peer_dir: peer part skipped (give --peer-dir)"
  exit 0
fi
build="$here/target/peer"
if [[ ! -f "$build/target/libtorch-spos-1.jar" ]]; then
  rm -rf "$build" && mkdir -p "$build" && cp -r "$peer_dir/." "$build/"
  echo "== building the libtorch peer in $build"
  (cd "$build" && mvn -q -B package) || { echo "bench-peer: the peer did not build: peer part skipped" >&2; exit 0; }
fi
peer_run() {  # peer_run THREADS MODE
  (cd "$build" && java -cp "target/libtorch-spos-1.jar:$(cat target/classpath.txt)" peer.SposBench "$1" 64 20 3 "$2" 2>/dev/null | tail -1)
}
ps=$(peer_run "$peer_threads" spos); pf=$(peer_run "$peer_threads" fixed); p1=$(peer_run 1 spos)
echo "peer: $ps"; echo "peer: $pf"; echo "peer: $p1"
rate() { sed -E 's/.*"img_per_s":([0-9.]+).*/\1/' <<<"$1"; }
peer_spos=$(rate "$ps"); peer_fixed=$(rate "$pf"); peer_one=$(rate "$p1")
echo "project configuration: $best_config; libtorch: 1 process x $peer_threads threads"
awk -v a="$best_spos" -v b="$peer_spos" 'BEGIN{printf "RATIO project / libtorch SPOS = %.2f (%s / %s images/s; target >= 1.0)\n", a/b, a, b}'
# the peer has no data-parallel mode: twice its 1-thread rate is an upper bound for it as 2 processes x 1 thread
awk -v a="$best_spos" -v b="$peer_one" 'BEGIN{printf "RATIO project / libtorch SPOS, libtorch as 2 x 1 thread (twice its 1-thread %s images/s, an upper bound) = %.2f\n", b, a/(2*b)}'
awk -v a="$best_fixed" -v b="$peer_fixed" 'BEGIN{printf "RATIO project / libtorch fixed path = %.2f (%s / %s images/s)\n", a/b, a, b}'
