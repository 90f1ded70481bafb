package io.sparknas.jobs;

import java.util.concurrent.FutureTask;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeHeapTest {

    /**
     * The supernet-train pattern in small: ND4J arrays freed while others stay allocated leave holes that glibc keeps
     * resident; trimming hands the holes back. 2,000 arrays of 100 KB (below glibc's mmap threshold, so from the heap), every
     * tenth kept: about 180 MB freed, in holes.
     */
    @Test
    void trimReturnsFreedNd4jMemoryToTheOperatingSystem() throws Exception {
        assertTrue(NativeHeap.available(), "glibc malloc_trim reachable through JNA");
        long[] rss = new long[3];
        // a FutureTask, so an assertion failing in the thread fails the test
        FutureTask<Void> t = new FutureTask<>(() -> {
            List<INDArray> all = allocate(2_000);
            rss[0] = NativeHeap.residentBytes();
            List<INDArray> kept = keepEveryTenth(all);
            rss[1] = NativeHeap.residentBytes();
            NativeHeap.trim();
            rss[2] = NativeHeap.residentBytes();
            assertTrue(kept.get(kept.size() - 1).getFloat(0) == 1990f);
            return null;
        });
        new Thread(t).start();
        t.get();
        assertTrue(rss[0] > 0, "resident size readable");
        String figures = String.format("resident MB: all allocated %d, after freeing 90%% %d, after trim %d", rss[0] >> 20, rss[1] >> 20, rss[2] >> 20);
        System.out.println(figures);
        assertTrue(rss[1] - rss[2] > 100L << 20, "trim released over 100 MB of the ~180 MB freed: " + figures);
    }

    /**
     * The rate-limited trim the tasks call: no trim while the process has not grown by the margin since the last one, a
     * trim (handing the holes back) once it has. 4,000 arrays of 100 KB, every tenth kept: the process grows by about
     * 400 MB, more than the 256 MB margin, and 360 MB of it are freed in holes.
     */
    @Test
    void trimIfGrownTrimsOnlyOnceTheProcessHasGrownByTheMargin() throws Exception {
        long[] rss = new long[2];
        boolean[] trimmed = new boolean[3];
        FutureTask<Void> t = new FutureTask<>(() -> {
            // a JVM that ran other tests holds freed memory that new arrays would reuse without growing: hand it back first
            // (the margin then counts from the smaller size)
            NativeHeap.trim();
            NativeHeap.trimIfGrown();
            trimmed[0] = NativeHeap.trimIfGrown();
            List<INDArray> kept = keepEveryTenth(allocate(4_000));
            rss[0] = NativeHeap.residentBytes();
            trimmed[1] = NativeHeap.trimIfGrown();
            rss[1] = NativeHeap.residentBytes();
            trimmed[2] = NativeHeap.trimIfGrown();
            assertTrue(kept.get(kept.size() - 1).getFloat(0) == 3990f);
            return null;
        });
        new Thread(t).start();
        t.get();
        String figures = String.format("resident MB: after freeing %d, after trimIfGrown %d", rss[0] >> 20, rss[1] >> 20);
        System.out.println(figures);
        assertFalse(trimmed[0], "no growth since the last trim: no trim");
        assertTrue(trimmed[1], "grown by more than the margin: trimmed (" + figures + ")");
        assertTrue(rss[0] - rss[1] > 150L << 20, "the trim released the holes: " + figures);
        assertFalse(trimmed[2], "and right after it, no trim again");
    }

    /** n arrays of 100 KB, array i filled with i. */
    private static List<INDArray> allocate(int n) {
        List<INDArray> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(Nd4j.create(DataType.FLOAT, 25_000).assign(i));
        }
        return all;
    }

    /** Frees every array but every tenth, leaving holes in glibc's heap; returns the kept ones. */
    private static List<INDArray> keepEveryTenth(List<INDArray> all) {
        List<INDArray> kept = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (i % 10 == 0) {
                kept.add(all.get(i));
            } else {
                all.get(i).close();
            }
        }
        return kept;
    }
}
