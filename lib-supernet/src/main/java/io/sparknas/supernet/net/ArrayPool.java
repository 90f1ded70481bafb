package io.sparknas.supernet.net;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Per-thread pool of released activation arrays, reused for the next array of the same type and shape. A fresh ND4J
 * array costs page faults and a memset (measured: allocating and freeing a 4.8 MB array 1.6-2.6 ms, filling an existing
 * one 0.08 ms; in a path's inference 30% of the time went to the kernel's page faults, memset and malloc). Arrays enter
 * only through {@link #release}, which callers use where an array is no longer referenced; they stay at most
 * {@link #MAX_BYTES} per thread. Beyond that, the arrays of the shape taken least recently are freed first: shapes
 * released more often than taken (an op's own output, a copy) and the shapes of a phase that has ended (training before
 * evaluation, another batch size) would otherwise fill the pool for good, and every later array would be a fresh one
 * (measured: a path's evaluation in the supernet-train JVM after training, 5-10x slower than in a fresh thread).
 */
final class ArrayPool {

    /** Pooled bytes per thread at most (two Spark tasks: twice this, within the executors' off-heap limit). */
    static final long MAX_BYTES = 256L << 20;

    private static final ThreadLocal<ArrayPool> LOCAL = ThreadLocal.withInitial(ArrayPool::new);

    private record Key(DataType type, long[] shape) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.type == type && Arrays.equals(k.shape, shape);
        }

        @Override
        public int hashCode() {
            return 31 * type.hashCode() + Arrays.hashCode(shape);
        }
    }

    /** The released arrays of one type and shape, and when one of that shape was last asked for. */
    private static final class Shelf {
        final ArrayDeque<INDArray> arrays = new ArrayDeque<>();
        long lastTaken;
    }

    private final Map<Key, Shelf> free = new HashMap<>();
    private long bytes;
    private long clock;

    private ArrayPool() {
    }

    /** A c-ordered array of {@code shape} with undefined contents: a released one of that type and shape, or a new one. */
    static INDArray take(DataType type, long... shape) {
        ArrayPool p = LOCAL.get();
        Shelf s = p.free.computeIfAbsent(new Key(type, shape), k -> new Shelf());
        s.lastTaken = ++p.clock;
        INDArray a = s.arrays.pollLast();
        if (a == null) {
            return Nd4j.createUninitialized(type, shape);
        }
        p.bytes -= a.length() * type.width();
        return a;
    }

    /**
     * Gives back an array no one references any more. Arrays that do not own their whole buffer (views, workspace
     * arrays, already closed ones) are left to the GC; beyond the pool's bound, arrays of the shapes taken least recently
     * are freed to make room, and if that is not enough, this one is freed at once.
     */
    static void release(INDArray a) {
        if (a == null || !a.closeable()) {
            return;
        }
        long size = a.length() * a.dataType().width();
        ArrayPool p = LOCAL.get();
        boolean whole = a.ordering() == 'c' && a.offset() == 0 && a.data().length() == a.length() && !a.isView();
        if (!whole || size > MAX_BYTES) {
            a.close();
            return;
        }
        Key key = new Key(a.dataType(), a.shape());
        Shelf own = p.free.computeIfAbsent(key, k -> new Shelf());
        while (p.bytes + size > MAX_BYTES) {
            Shelf oldest = null;
            for (Shelf s : p.free.values()) {
                if (s != own && !s.arrays.isEmpty() && (oldest == null || s.lastTaken < oldest.lastTaken)) {
                    oldest = s;
                }
            }
            if (oldest == null || oldest.lastTaken > own.lastTaken) {
                // only arrays of shapes in more recent use than this one's are left: keep them
                a.close();
                return;
            }
            INDArray evicted = oldest.arrays.pollFirst();
            p.bytes -= evicted.length() * evicted.dataType().width();
            evicted.close();
        }
        own.arrays.addLast(a);
        p.bytes += size;
    }
}
