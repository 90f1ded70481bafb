package io.sparknas.jobs;

import java.nio.file.Path;
import java.nio.file.Files;
import com.sun.jna.Library;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands the native memory that glibc's malloc keeps after ND4J frees it back to the operating system ({@code malloc_trim(0)},
 * which walks every arena). Without it the resident size of a long supernet-train JVM grows by gigabytes an hour: ND4J's
 * tracked off-heap bytes stay bounded, but the freed blocks stay in glibc's per-thread arenas, which Spark's task threads
 * do not reuse. Supernet-train tasks call {@link #trimIfGrown()} at the end of every round and evaluation tasks after
 * every architecture: it trims once the process has grown by a margin since the last trim. Where the C library has no {@code malloc_trim} (not glibc) this does nothing and says so once.
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

    /**
     * How far the resident size may grow past its size after the last trim before {@link #trimIfGrown()} trims again.
     * {@code malloc_trim(0)} hands every free page back, so the pages the next allocations touch fault in again, zeroed
     * by the kernel: trimming after every architecture made a tiny search spend a quarter of its CPU time there (62.5 ->
     * 46.5 CPU seconds with no trim, docs/performance.md), while a large evaluation still needs the trim to stay bounded.
     */
    static final long TRIM_GROWTH_BYTES = 256L << 20;

    /** The resident size right after the last {@link #trimIfGrown()} trim, or the least seen since (0: none yet). */
    private static final AtomicLong RESIDENT_AFTER_TRIM = new AtomicLong();

    /**
     * {@link #trim()} when this process has grown by {@link #TRIM_GROWTH_BYTES} since the last trim made here, or since the
     * least resident size seen after it (always when the resident size is unknown): the resident size stays within that
     * margin of what the work holds, at a fraction of the trims.
     *
     * @return whether it trimmed
     */
    public static boolean trimIfGrown() {
        long rss = residentBytes();
        long after = RESIDENT_AFTER_TRIM.get();
        if (rss >= 0 && after > 0 && rss < after + TRIM_GROWTH_BYTES) {
            if (rss < after) {
                // the process shrank (memory unmapped since): the margin counts from the smaller size
                RESIDENT_AFTER_TRIM.compareAndSet(after, Math.max(1, rss));
            }
            return false;
        }
        trim();
        RESIDENT_AFTER_TRIM.set(Math.max(1, residentBytes()));
        return true;
    }

    /** Resident set size of this process in bytes (Linux {@code /proc/self/statm}, 4 KiB pages), or -1 where unknown. */
    public static long residentBytes() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(f[1]) * 4096L;
        } catch (Exception e) {
            return -1;
        }
    }

    /** When {@link #collectAndTrim} last ran a collection in this JVM (nanoTime), or 0. */
    private static final AtomicLong LAST_COLLECTION = new AtomicLong();

    /**
     * Runs a garbage collection, then {@link #trimIfGrown()}, unless one ran in this JVM less than {@code minIntervalMillis} ago (then
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
        trimIfGrown();
        return collect;
    }
}
