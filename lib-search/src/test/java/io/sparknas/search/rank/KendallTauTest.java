package io.sparknas.search.rank;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KendallTauTest {

    @Test
    void identicalAndReversedRankings() {
        double[] a = {0.61, 0.70, 0.55, 0.80, 0.66};
        assertEquals(1.0, KendallTau.of(a, new double[]{61, 70, 55, 80, 66}), 1e-12);
        assertEquals(-1.0, KendallTau.of(a, new double[]{-61, -70, -55, -80, -66}), 1e-12);
    }

    @Test
    void knownValueWithoutTies() {
        // pairs of 1..5 vs (3,1,2,5,4): 7 concordant, 3 discordant -> (7 - 3) / 10
        assertEquals(0.4, KendallTau.of(new double[]{1, 2, 3, 4, 5}, new double[]{3, 1, 2, 5, 4}), 1e-12);
    }

    @Test
    void tauBCorrectsForTies() {
        // x = (1,2,2,3), y = (1,3,2,4): pairs (6): concordant 5, discordant 0, tied in x only 1 (the two 2s)
        // tau-b = (5 - 0) / sqrt((6 - 1) * (6 - 0)) = 5 / sqrt(30)
        assertEquals(5 / Math.sqrt(30), KendallTau.of(new double[]{1, 2, 2, 3}, new double[]{1, 3, 2, 4}), 1e-12);
        // ties in both: x = (1,1,2,2), y = (1,2,2,3): concordant 3 [(1,3)(1,4)(2,4)... ], see below
        // pairs: (1,2) tied x; (1,3) C; (1,4) C; (2,3) y tied; (2,4) C; (3,4) tied x -> C=3, D=0, n1=2 x-ties, n2=1 y-tie
        assertEquals(3 / Math.sqrt((6 - 2) * (6 - 1)), KendallTau.of(new double[]{1, 1, 2, 2}, new double[]{1, 2, 2, 3}), 1e-12);
    }

    @Test
    void rejectsWhatHasNoTau() {
        assertThrows(IllegalArgumentException.class, () -> KendallTau.of(new double[]{1, 2}, new double[]{1, 2, 3}));
        assertThrows(IllegalArgumentException.class, () -> KendallTau.of(new double[]{1}, new double[]{1}));
        assertThrows(IllegalArgumentException.class, () -> KendallTau.of(new double[]{1, 1, 1}, new double[]{1, 2, 3}));
        assertThrows(IllegalArgumentException.class, () -> KendallTau.of(new double[]{1, Double.NaN}, new double[]{1, 2}));
    }
}
