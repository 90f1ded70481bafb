package io.sparknas.jobs.supernet;

/**
 * The order of an epoch's weight and architecture rounds: all weight rounds first, or (interleaved, DSO-NAS Algorithm 1's
 * alternation) each architecture round right after its share of the weight rounds, e.g. W W W W A for 4 : 1. Fixed by the
 * two counts, so a resumed epoch continues in the same order.
 */
final class RoundOrder {

    private final boolean[] architecture;
    private final int[] index;

    RoundOrder(int weightRounds, int architectureRounds, boolean interleaved) {
        int total = weightRounds + architectureRounds;
        architecture = new boolean[total];
        index = new int[total];
        int w = 0;
        int a = 0;
        for (int r = 0; r < total; r++) {
            boolean arch = interleaved ? a < architectureRounds && (w >= weightRounds || (long) (a + 1) * weightRounds <= (long) w * architectureRounds)
                    : r >= weightRounds;
            architecture[r] = arch;
            index[r] = arch ? a++ : w++;
        }
    }

    int rounds() {
        return architecture.length;
    }

    /** Whether round r (0-based) is an architecture round. */
    boolean architecture(int r) {
        return architecture[r];
    }

    /** Round r's number among the rounds of its phase (0-based). */
    int index(int r) {
        return index[r];
    }
}
