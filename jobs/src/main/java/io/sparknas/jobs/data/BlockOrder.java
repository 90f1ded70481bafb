package io.sparknas.jobs.data;

import io.sparknas.jobs.artifact.Sample;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The order in which a worker visits the images of its shard in an epoch, as blocks: the shard's buckets are cut into blocks
 * of {@code blockImages} consecutive positions (a bucket's positions are a hash order, so a block mixes the classes); the
 * epoch visits the blocks in a seeded permutation and, within a block, the images a {@link Filter} keeps in a seeded
 * permutation. Image {@code i} of the epoch is found from the index alone (class and part per position, no pixels), and
 * only its block is read - so a round that uses {@code steps x batch} images reads about that many, never the whole
 * shard, and holds one block of pixels at a time.
 *
 * <p>The order depends on (seed, epoch, worker), the buckets and the block size only: the same on any number of cores and on
 * any cluster. The last block a worker read is kept in this JVM, so the next round, continuing in it, reads nothing again.
 */
public final class BlockOrder {

    /** Which images of a shard an epoch's rounds use (class and id-fixed part). */
    public interface Filter extends Serializable {
        boolean holds(int label, int part);
    }

    /** A worker's last block, per (file, epoch-independent start): its rows, read once. */
    private record Block(String file, long start, List<Sample> rows) {
    }

    private static final Map<String, Block> LAST = new ConcurrentHashMap<>();

    private final ImageTable table;
    private final String cacheKey;
    private final int[] blockBucket;
    private final long[] blockStart;
    private final long[] blockEnd;
    /** Per block (in visiting order), the positions the filter keeps, in their seeded order (positions relative to the block start). */
    private final int[][] kept;
    /** Visiting order -> first epoch index of the block; last entry is the size. */
    private final long[] firstIndex;
    private final long seed;
    private final int epoch;
    private final int worker;
    private int loadedBlock = -1;
    private List<Sample> loaded;
    private long rowsRead;

    /** The epoch's order of worker {@code worker}'s shard of {@code table}, in blocks of {@code blockImages} positions. */
    public BlockOrder(ImageTable table, int worker, int workers, Filter filter, int blockImages, long seed, int epoch) {
        this.table = table;
        this.seed = seed;
        this.epoch = epoch;
        this.worker = worker;
        this.cacheKey = table.split() + "/" + workers + "/" + worker;
        List<int[]> blocks = new ArrayList<>();
        for (int b : table.bucketsOf(worker, workers)) {
            int n = BucketFile.index(table.files()[b], table.conf()).size();
            for (int s = 0; s < n; s += blockImages) {
                blocks.add(new int[]{b, s, Math.min(n, s + blockImages)});
            }
        }
        int nb = blocks.size();
        int[] visit = permutation(nb, new Random(mix(seed, epoch, worker, -1)));
        blockBucket = new int[nb];
        blockStart = new long[nb];
        blockEnd = new long[nb];
        kept = new int[nb][];
        firstIndex = new long[nb + 1];
        for (int v = 0; v < nb; v++) {
            int[] blk = blocks.get(visit[v]);
            blockBucket[v] = blk[0];
            blockStart[v] = blk[1];
            blockEnd[v] = blk[2];
            BucketFile.Index index = BucketFile.index(table.files()[blk[0]], table.conf());
            int[] keep = new int[blk[2] - blk[1]];
            int k = 0;
            for (int p = blk[1]; p < blk[2]; p++) {
                if (filter.holds(index.labels()[p], index.parts()[p])) {
                    keep[k++] = p - blk[1];
                }
            }
            int[] own = new int[k];
            int[] order = permutation(k, new Random(mix(seed, epoch, worker, visit[v])));
            for (int i = 0; i < k; i++) {
                own[i] = keep[order[i]];
            }
            kept[v] = own;
            firstIndex[v + 1] = firstIndex[v] + k;
        }
    }

    /** Images of the shard the filter keeps: the length of the epoch's order. */
    public long size() {
        return firstIndex[firstIndex.length - 1];
    }

    /** Image {@code i} of the epoch's order, {@code 0 <= i < size()}: reads its block unless it is the one held. */
    public Sample get(long i) {
        int v = blockOf(i);
        if (v != loadedBlock) {
            loaded = rowsOf(v);
            loadedBlock = v;
        }
        return loaded.get(kept[v][(int) (i - firstIndex[v])]);
    }

    /** Rows this order has read from storage so far (those of the blocks it had to read). */
    public long rowsRead() {
        return rowsRead;
    }

    private List<Sample> rowsOf(int v) {
        String file = table.files()[blockBucket[v]];
        Block last = LAST.get(cacheKey);
        if (last != null && last.file().equals(file) && last.start() == blockStart[v]) {
            return last.rows();
        }
        List<Sample> rows = BucketFile.read(file, table.conf(), blockStart[v], blockEnd[v]);
        rowsRead += rows.size();
        LAST.put(cacheKey, new Block(file, blockStart[v], rows));
        return rows;
    }

    private int blockOf(long i) {
        if (i < 0 || i >= size()) {
            throw new IndexOutOfBoundsException("image " + i + " of an epoch order of " + size());
        }
        int lo = 0;
        int hi = firstIndex.length - 2;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (firstIndex[mid] <= i) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        // blocks the filter empties have firstIndex[v] == firstIndex[v + 1]: move past them
        while (firstIndex[lo + 1] <= i) {
            lo++;
        }
        return lo;
    }

    static int[] permutation(int n, Random rnd) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    /** The generator seed of (seed, a, b, c): the mix the training steps use too. */
    public static long mix(long seed, long a, long b, long c) {
        long h = seed * 0x9E3779B97F4A7C15L;
        for (long v : new long[]{a, b, c}) {
            h ^= v + 0x9E3779B97F4A7C15L + (h << 6) + (h >>> 2);
        }
        return h;
    }
}
