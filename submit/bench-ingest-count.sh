#!/usr/bin/env bash
# Benchmark (prints figures; not a test): ingest at ImageNet's file count. Builds a tree laid out as ImageNet's
# (1,000 class folders, 1,281,167 train files, a flat val/ of 50,000 files and LOC_val_solution.csv) whose files are
# symbolic links to a pool of small synthetic JPEGs (disk and decoding stay small; the file count, the names, the listing,
# the manifest, the split assignment and the 1,024 bucket files are ImageNet's), then runs the real ingest stage on it with
# a 2 GB driver heap and prints: listing time, decode throughput, the stage's wall time, the driver's peak resident memory,
# and the bucket files written. Decoding real-size JPEGs is measured by submit/bench-scale.sh.
#   [BENCH_DIR=/tmp/spark-nas-count] [BENCH_TRAIN=1281167] [BENCH_VAL=50000] submit/bench-ingest-count.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${BENCH_DIR:-${TMPDIR:-/tmp}/spark-nas-count}"
train="${BENCH_TRAIN:-1281167}"
val="${BENCH_VAL:-50000}"
classes=1000
cores="$(nproc)"
export OMP_NUM_THREADS=1
export NAS_SUBMIT_ARGS="--driver-memory 2g --conf spark.extraListeners=io.sparknas.jobs.bench.RoundBytesListener ${NAS_SUBMIT_ARGS:-}"
mkdir -p "$dir"

echo "== pool: 64 small synthetic JPEGs (about 40 x 35 px)"
"$here/submit/run-stage" io.sparknas.jobs.bench.SyntheticImageTree --master "local[$cores]" "$dir/pool" 64 1 0 1 10 \
  2>"$dir/pool.log" | grep -v '^$' || { tail -20 "$dir/pool.log"; exit 1; }

if [[ ! -f "$dir/tree/.done" ]]; then
  echo "== tree: $train train and $val val links in $classes class folders"
  rm -rf "$dir/tree"
  python3 - "$dir" "$train" "$val" "$classes" <<'EOF'
import os, sys
d, train, val, classes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pool = sorted(os.path.join(d, "pool", "train", c, f) for c in os.listdir(os.path.join(d, "pool", "train"))
              for f in os.listdir(os.path.join(d, "pool", "train", c)))
t = os.path.join(d, "tree")
k = 0
for c in range(classes):
    w = "n%08d" % c
    os.makedirs(os.path.join(t, "train", w))
    for i in range(train // classes + (1 if c < train % classes else 0)):
        os.symlink(pool[k % len(pool)], os.path.join(t, "train", w, "%s_%d.JPEG" % (w, i)))
        k += 1
os.makedirs(os.path.join(t, "val"))
with open(os.path.join(t, "LOC_val_solution.csv"), "w") as out:
    out.write("ImageId,PredictionString\n")
    for n in range(val):
        name = "ILSVRC2012_val_%08d" % (n + 1)
        os.symlink(pool[n % len(pool)], os.path.join(t, "val", name + ".JPEG"))
        out.write("%s,n%08d 0 0 10 10\n" % (name, n % classes))
EOF
  touch "$dir/tree/.done"
fi

rm -rf "$dir/runs"
start=$(date +%s.%N)
NAS_BENCH_BYTES_OUT="$dir/ingest.bytes" "$here/submit/ingest.sh" --config "$here/conf/imagenet-mobile.conf" --run-root "$dir/runs" \
  --run-id count -Dnas.ingest.source="$dir/tree" -Dnas.ingest.resolution=32 > "$dir/ingest.log" 2>&1 \
  || { echo "bench-ingest-count: ingest failed (log: $dir/ingest.log):"; tail -30 "$dir/ingest.log"; exit 1; }
wall=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
{
  grep -h "ingest: .* files under\|ingest: .* image entries\|ingest: decoded in\|ingest: wrote\|ingest: done in" "$dir/ingest.log" \
    | sed 's/.*\(ingest: \)/\1/'
  files=$(find "$dir/runs/count/ingest" -name '*.parquet' | wc -l)
  rss=$(awk -F'\t' '$1 == "peak_rss_bytes" { printf "%.2f", $2 / 1e9 }' "$dir/ingest.bytes")
  echo "ingest at ImageNet's count: $((train + val)) files, $wall s wall on $cores cores (JVM included), $files Parquet files, driver peak resident memory $rss GB (driver heap 2 GB)"
} | tee "$dir/figures.txt"
