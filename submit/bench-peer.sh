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

best_spos=0; best_fixed=0; best_threads=""; eval_s=""
for t in 1 2; do
  echo "== project, OMP_NUM_THREADS=$t"
  out=$(mktemp); log=$(mktemp)
  if ! OMP_NUM_THREADS=$t "$here/submit/run-stage" io.sparknas.jobs.bench.EngineBench --master 'local[2]' "${defaults[@]}" "${args[@]}" \
      > "$out" 2> "$log"; then
    tail -20 "$log" >&2; echo "bench-peer: the project benchmark failed (log: $log)" >&2; exit 1
  fi
  cat "$out"; line=$(grep '^ENGINE project' "$out"); rm -f "$out" "$log"
  spos=$(sed -E 's/.* spos=([0-9.]+).*/\1/' <<<"$line"); fixed=$(sed -E 's/.* fixed=([0-9.]+).*/\1/' <<<"$line")
  e=$(sed -E 's/.* eval_s=([0-9.]+).*/\1/' <<<"$line")
  if awk "BEGIN{exit !($spos > $best_spos)}"; then best_spos=$spos; best_fixed=$fixed; best_threads=$t; eval_s=$e; fi
done
echo "project best: $best_threads native thread(s): SPOS $best_spos images/s, fixed path $best_fixed images/s"
echo "RATIO path evaluation seconds = $eval_s (target <= 3 s)"

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
peer_run() {
  (cd "$build" && java -cp "target/libtorch-spos-1.jar:$(cat target/classpath.txt)" peer.SposBench "$peer_threads" 64 20 3 "$1" 2>/dev/null | tail -1)
}
ps=$(peer_run spos); pf=$(peer_run fixed)
echo "peer: $ps"; echo "peer: $pf"
peer_spos=$(sed -E 's/.*"img_per_s":([0-9.]+).*/\1/' <<<"$ps"); peer_fixed=$(sed -E 's/.*"img_per_s":([0-9.]+).*/\1/' <<<"$pf")
awk -v a="$best_spos" -v b="$peer_spos" 'BEGIN{printf "RATIO project / libtorch SPOS = %.2f (%s / %s images/s; target >= 1.0)\n", a/b, a, b}'
awk -v a="$best_fixed" -v b="$peer_fixed" 'BEGIN{printf "RATIO project / libtorch fixed path = %.2f (%s / %s images/s)\n", a/b, a, b}'
