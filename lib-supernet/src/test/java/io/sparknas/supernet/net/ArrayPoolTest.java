package io.sparknas.supernet.net;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-thread pool's bound: the shapes taken least recently make room, so a new phase's shapes are pooled again. */
class ArrayPoolTest {

    /** 64 MiB of floats: four fill the pool. */
    private static final long[] OLD = {16, 1024, 1024};
    private static final long[] NEW = {8, 1024, 1024};

    @Test
    void arraysOfAShapeNoLongerTakenMakeRoomForTheShapeInUse() throws Exception {
        // a fresh thread: a fresh pool
        Thread t = new Thread(() -> {
            List<INDArray> old = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                old.add(ArrayPool.take(DataType.FLOAT, OLD));
            }
            old.forEach(ArrayPool::release);
            assertTrue(old.stream().allMatch(INDArray::closeable), "the full pool keeps all four 64 MiB arrays");
            // a new phase: another shape, taken and released over and over
            INDArray a = ArrayPool.take(DataType.FLOAT, NEW);
            ArrayPool.release(a);
            assertFalse(old.get(0).closeable(), "the least recently taken old array was freed to make room");
            INDArray again = ArrayPool.take(DataType.FLOAT, NEW);
            assertSame(a, again, "the new shape is served from the pool");
            ArrayPool.release(again);
            // the old shape, taken again, is served from what is left of it
            INDArray o = ArrayPool.take(DataType.FLOAT, OLD);
            assertSame(old.get(3), o, "the most recently released old array is reused");
            ArrayPool.release(o);
            // an array too large for the pool is freed at once and never handed out again
            INDArray big = ArrayPool.take(DataType.FLOAT, 80, 1024, 1024);
            ArrayPool.release(big);
            assertFalse(big.closeable());
            INDArray fresh = ArrayPool.take(DataType.FLOAT, 80, 1024, 1024);
            assertNotSame(big, fresh);
            fresh.close();
        });
        Throwable[] failure = new Throwable[1];
        t.setUncaughtExceptionHandler((th, e) -> failure[0] = e);
        t.start();
        t.join();
        if (failure[0] != null) {
            throw new AssertionError(failure[0]);
        }
    }
}
