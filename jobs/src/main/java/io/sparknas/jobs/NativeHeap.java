package io.sparknas.jobs;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the native memory that glibc's malloc keeps after ND4J frees it back to the operating system ({@code malloc_trim(0)},
 * which walks every arena). Without it the resident size of a long supernet-train JVM grows by gigabytes an hour: ND4J's
 * tracked off-heap bytes stay bounded, but the freed blocks stay in glibc's per-thread arenas, which Spark's task threads
 * do not reuse. Supernet-train tasks call {@link #trim()} at the end of every round and evaluation tasks after every
 * architecture. Where the C library has no {@code malloc_trim} (not glibc) this does nothing and says so once.
 */
public final class NativeHeap {

    private static final Logger LOG = LoggerFactory.getLogger(NativeHeap.class);

    /** The one C function used. */
    interface CLibrary extends Library {
        int malloc_trim(long pad);
    }

    private static final CLibrary LIBC = load();

    private NativeHeap() {
    }

    private static CLibrary load() {
        try {
            CLibrary c = (CLibrary) Native.loadLibrary("c", CLibrary.class);
            c.malloc_trim(0);
            return c;
        } catch (Throwable e) {
            LOG.warn("Native heap trimming is off: no malloc_trim in this C library ({}); resident memory of long runs may grow", e.toString());
            return null;
        }
    }

    /** Whether {@link #trim()} reaches glibc's {@code malloc_trim}. */
    public static boolean available() {
        return LIBC != null;
    }

    /**
     * Returns free native heap memory to the operating system.
     *
     * @return whether glibc released any memory (false also when trimming is unavailable)
     */
    public static boolean trim() {
        return LIBC != null && LIBC.malloc_trim(0) == 1;
    }

    /** Resident set size of this process in bytes (Linux {@code /proc/self/statm}, 4 KiB pages), or -1 where unknown. */
    public static long residentBytes() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(f[1]) * 4096L;
        } catch (Exception e) {
            return -1;
        }
    }

    /** When {@link #collectAndTrim} last ran a collection in this JVM (nanoTime), or 0. */
    private static final java.util.concurrent.atomic.AtomicLong LAST_COLLECTION = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Runs a garbage collection, then {@link #trim()}, unless one ran in this JVM less than {@code minIntervalMillis} ago (then
     * only trims). ND4J frees an array allocated outside a workspace only when the collector has found it unreachable; DL4J's
     * layers and dl4j-spark's per-round worker networks make many such arrays while the JVM heap stays nearly empty, so
     * without a collection their native memory waits for one for a long time (measured in docs/performance.md).
     *
     * @return whether a collection ran
     */
    public static boolean collectAndTrim(long minIntervalMillis) {
        long now = System.nanoTime();
        long last = LAST_COLLECTION.get();
        boolean collect = (last == 0 || now - last >= minIntervalMillis * 1_000_000L) && LAST_COLLECTION.compareAndSet(last, now);
        if (collect) {
            System.gc();
        }
        trim();
        return collect;
    }
}
