package io.sparknas.search.easiness;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ClassEasinessTest {

    @Test
    void scoreIsTheMeanEntropyOfTheMeanHistogramAndRanksLowestFirst() {
        // 2 networks, 3 classes, 4 bins over [0, 4]: centres 0.5, 1.5, 2.5, 3.5
        long[][][] counts = {
                {{10, 0, 0, 0}, {0, 0, 5, 5}, {0, 10, 0, 0}},
                {{5, 5, 0, 0}, {0, 0, 0, 20}, {0, 0, 10, 0}}};
        ClassEasiness e = ClassEasiness.of(counts, 4.0);
        // class 0: network 0 mean 0.5, network 1 mean 1.0 -> 0.75; class 1: 3.0 and 3.5 -> 3.25; class 2: 1.5 and 2.5 -> 2.0
        assertArrayEquals(new double[]{0.75, 3.25, 2.0}, e.score(), 1e-12);
        assertArrayEquals(new double[]{0.75, 0.25, 0, 0}, e.meanHistogram()[0], 1e-12);
        assertArrayEquals(new int[]{1, 3, 2}, e.rank());
        assertArrayEquals(new int[]{0, 2, 1}, e.easiestFirst());
        assertEquals(1.0, ClassEasiness.spearman(e.networkScore()[0], e.networkScore()[1]), 1e-12);
        assertEquals(3, ClassEasiness.bin(4.0, 4, 4.0));
        assertEquals(0, ClassEasiness.bin(0.0, 4, 4.0));
        assertEquals(1, ClassEasiness.bin(1.99, 4, 4.0));
        assertThrows(IllegalArgumentException.class, () -> ClassEasiness.of(new long[][][]{{{1, 0}, {0, 0}}}, 1));
    }

    @Test
    void tiesRankByClassIndex() {
        assertArrayEquals(new int[]{2, 1, 3}, ClassEasiness.ranks(new double[]{1.0, 0.5, 1.0}));
    }
}
