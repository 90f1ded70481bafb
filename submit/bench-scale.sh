#!/usr/bin/env bash
# Benchmark (prints figures; not a test): the data path at ImageNet's shape. Generates an ImageNet-layout JPEG tree (1,000
# classes, deterministic content), then on the imagenet-mobile space (width 1.0, 1,000 classes, 16 workers, local[2],
# Spark's default spark.driver.maxResultSize, a 2 GB driver heap):
#   1. at a reduced resolution, for train sets of N, 4N and 16N images: ingest (images/s per core, Parquet bytes per
#      image) and a few supernet-train rounds (wall and compute per round, rows read, bytes broadcast and received by the
#      driver per round, peak resident memory);
#   2. at 224 px, on N (batch 8): ingest, supernet-train rounds (checkpoint size and write time), a search over a few
#      architectures and a few retrain steps.
# RATIO lines are the results. Re-running reuses the tree and every committed stage (delete BENCH_DIR to start over).
#   [BENCH_DIR=/tmp/spark-nas-scale] [BENCH_PER_CLASS="3 12 48"] [BENCH_RES=64] [BENCH_FULL=1] submit/bench-scale.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${BENCH_DIR:-${TMPDIR:-/tmp}/spark-nas-scale}"
read -r -a sizes <<< "${BENCH_PER_CLASS:-3 12 48}"
res="${BENCH_RES:-64}"
full="${BENCH_FULL:-1}"
classes=1000
hold=2     # train images per class held out as the search val split
testpc=1   # images per class in the flat val/ folder (the test split)
cores="$(nproc)"
export OMP_NUM_THREADS=1
export NAS_SUBMIT_ARGS="--driver-memory 2g --conf spark.extraListeners=io.sparknas.jobs.bench.RoundBytesListener ${NAS_SUBMIT_ARGS:-}"
conf="$here/conf/imagenet-mobile.conf"
mkdir -p "$dir"
max=0
for n in "${sizes[@]}"; do (( n > max )) && max=$n; done

echo "== tree: $classes classes x ($max + $hold train, $testpc val) JPEGs in $dir/tree"
"$here/submit/run-stage" io.sparknas.jobs.bench.SyntheticImageTree --master "local[$cores]" "$dir/tree" "$classes" "$((max + hold))" "$testpc" \
  2>"$dir/tree.log" | grep -v '^$' || { tail -20 "$dir/tree.log"; exit 1; }

# a view of the tree with the first k train images per class (symbolic links; the same val/ folder and label file)
view() {
  local k=$1 out="$dir/tree-$1"
  if [[ ! -f "$out/.done" ]]; then
    rm -rf "$out"; mkdir -p "$out/train"
    ln -s "$dir/tree/val" "$out/val"; ln -s "$dir/tree/LOC_val_solution.csv" "$out/LOC_val_solution.csv"
    for c in "$dir"/tree/train/*/; do
      w="$(basename "$c")"; mkdir "$out/train/$w"
      files=(); for ((i = 0; i < k + hold; i++)); do files+=("$c${w}_$i.JPEG"); done
      ln -s "${files[@]}" "$out/train/$w/"
    done
    touch "$out/.done"
  fi
  echo "$out"
}

# stage RUN_ID RES NAME SCRIPT ARGS...: runs a stage script (skipped when committed), its log in $dir/RUN_ID-NAME.log
stage() {
  local id=$1 r=$2 name=$3 script=$4; shift 4
  local start; start=$(date +%s.%N)
  if [[ -f "$dir/$id-$name.seconds" && -d "$dir/runs/$id/$name" ]]; then
    echo "bench-scale: $id $name committed before: kept (delete $dir/runs/$id/$name to measure it again)" >&2
    return 0
  fi
  NAS_BENCH_BYTES_OUT="$dir/$id-$name.bytes" "$here/submit/$script" --config "$conf" --run-root "$dir/runs" --run-id "$id" \
    -Dnas.ingest.resolution="$r" -Dnas.ingest.val-per-class=$hold -Dnas.ingest.buckets=64 "$@" > "$dir/$id-$name.log" 2>&1 \
    || { echo "bench-scale: $script failed for $id (log: $dir/$id-$name.log):"; tail -30 "$dir/$id-$name.log"; exit 1; }
  awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f\n", a - b }' > "$dir/$id-$name.seconds"
}

train_args=(-Dnas.run.method=spos -Dnas.supernet.epochs=1 -Dnas.supernet.batch-size=16 -Dnas.supernet.steps-per-round=2
  -Dnas.supernet.max-steps-per-epoch=8 -Dnas.supernet.eval.paths=0 -Dnas.supernet.combine=auto)

report() {
  local id=$1
  "$here/submit/run-stage" io.sparknas.jobs.bench.ScaleBench --master "local[$cores]" "file://$dir/runs" "$id" "$dir/$id-supernet-train.bytes" \
    "$cores" 2>"$dir/$id-report.log" | tee -a "$dir/figures.txt"
}

: > "$dir/figures.txt"
for n in "${sizes[@]}"; do
  id="r$res-n$n"
  echo "== $id: $n train images per class at ${res} px"
  src="$(view "$n")"
  stage "$id" "$res" ingest ingest.sh -Dnas.ingest.source="$src"
  stage "$id" "$res" supernet-train supernet-train.sh "${train_args[@]}"
  report "$id"
done
awk '/^SIZE/ { split($3, t, "="); split($4, w, "="); split($5, c, "="); split($6, q, "="); split($7, m, "=");
       if (!n) { t0 = t[2]; w0 = w[2]; c0 = c[2]; m0 = m[2] } n++; tl = t[2]; wl = w[2]; cl = c[2]; ml = m[2];
       if (q[2] > qmax) qmax = q[2] }
     END { if (n > 1) {
       printf "RATIO round wall %dx train / 1x = %.3f (target <= 1.1)\n", tl / t0, wl / w0;
       printf "RATIO round compute %dx train / 1x = %.3f (target <= 1.1)\n", tl / t0, cl / c0;
       printf "RATIO peak resident memory %dx train / 1x = %.3f (target: flat)\n", tl / t0, ml / m0 }
       printf "RATIO driver bytes received per round / one model'"'"'s parameter sums = %.3f at most (target <= 1.5)\n", qmax }' \
  "$dir/figures.txt" | tee -a "$dir/figures.txt"

if [[ "$full" == 1 ]]; then
  n="${sizes[0]}"; id="r224-n$n"
  echo "== $id: $n train images per class at 224 px: rounds, a search over a few architectures, a few retrain steps"
  src="$(view "$n")"
  stage "$id" 224 ingest ingest.sh -Dnas.ingest.source="$src"
  stage "$id" 224 supernet-train supernet-train.sh "${train_args[@]}" -Dnas.supernet.batch-size=8 -Dnas.supernet.max-steps-per-epoch=6 \
    -Dnas.run.checkpoint-interval=0
  report "$id"
  grep -h "checkpoint after round" "$dir/$id-supernet-train.log" | sed 's/.*supernet-train: /checkpoint: /' | tail -2 | tee -a "$dir/figures.txt"
  echo "checkpoint: state table $(du -sm "$dir/runs/$id/supernet-train/supernet" | cut -f1) MB on disk" | tee -a "$dir/figures.txt"
  stage "$id" 224 search search.sh -Dnas.run.method=spos -Dnas.search.population=4 -Dnas.search.generations=1 \
    -Dnas.search.eval.val-images=200 -Dnas.search.eval.recalibration-batches=1 -Dnas.search.eval.batch-size=32
  grep -h "search: generation\|search: done\|architectures evaluated" "$dir/$id-search.log" | tail -3 | tee -a "$dir/figures.txt"
  echo "search: $(cat "$dir/$id-search.seconds") s wall" | tee -a "$dir/figures.txt"
  stage "$id" 224 retrain retrain.sh -Dnas.run.method=spos -Dnas.retrain.epochs=1 -Dnas.retrain.batch-size=16 -Dnas.retrain.train-images=128 \
    -Dnas.retrain.epoch-val-images=0 -Dnas.retrain.recalibration-batches=1
  grep -h "retrain: epoch\|test accuracy" "$dir/$id-retrain.log" | tail -2 | tee -a "$dir/figures.txt"
  echo "retrain: $(cat "$dir/$id-retrain.seconds") s wall" | tee -a "$dir/figures.txt"
fi
echo "figures: $dir/figures.txt"
