package io.sparknas.search.easiness;

import java.util.Arrays;
import org.apache.commons.math3.stat.correlation.KendallsCorrelation;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

/**
 * DA-NAS class easiness (Dai et al. 2020, section 4, Eq. 1-3) from per-network entropy histograms.
 *
 * <p>Eq. 1-2: the entropy {@code E_i = -sum_k P_k log P_k} of a reference network's softmax output for each training sample;
 * Eq. 3: a class is represented by the histogram {@code H} of its samples' entropies; "for each class, we calculate the mean of
 * easiness histograms among multiple networks" (section 4). Histograms are normalised per network and class (shares of the
 * class's samples per bin over {@code [0, ln C]}) before the mean, so every network weighs the same.
 *
 * <p>The paper ranks classes by these histograms without naming the statistic. This project reduces the mean histogram to its
 * mean entropy, {@code score = sum_b share_b x centre_b} (nats; lower = easier; rank 1 = easiest, ties by class index): the mean
 * is linear in the histogram, so the score of the mean histogram is the mean of the networks' scores, and it weighs the whole
 * distribution (a class with a long tail of confusing samples ranks harder than one with the same mode). The deviations table
 * lists this reading.
 */
public final class ClassEasiness {

    private final double[][] meanHistogram;
    private final double[][][] networkHistograms;
    private final double[] score;
    private final double[][] networkScore;
    private final int[] rank;

    private ClassEasiness(double[][] meanHistogram, double[][][] networkHistograms, double[] score, double[][] networkScore, int[] rank) {
        this.meanHistogram = meanHistogram;
        this.networkHistograms = networkHistograms;
        this.score = score;
        this.networkScore = networkScore;
        this.rank = rank;
    }

    /**
     * @param counts     {@code counts[network][class][bin]}: samples of the class whose entropy under the network falls in the bin
     * @param maxEntropy the upper end of the last bin ({@code ln C})
     * @throws IllegalArgumentException when a network has no sample of some class
     */
    public static ClassEasiness of(long[][][] counts, double maxEntropy) {
        int networks = counts.length;
        int classes = counts[0].length;
        int bins = counts[0][0].length;
        double[][][] shares = new double[networks][classes][bins];
        double[][] mean = new double[classes][bins];
        double[][] netScore = new double[networks][classes];
        double[] score = new double[classes];
        for (int n = 0; n < networks; n++) {
            for (int c = 0; c < classes; c++) {
                long total = 0;
                for (long v : counts[n][c]) {
                    total += v;
                }
                if (total == 0) {
                    throw new IllegalArgumentException("network " + n + " scored no sample of class " + c);
                }
                for (int b = 0; b < bins; b++) {
                    shares[n][c][b] = (double) counts[n][c][b] / total;
                    mean[c][b] += shares[n][c][b] / networks;
                    netScore[n][c] += shares[n][c][b] * centre(b, bins, maxEntropy);
                }
            }
        }
        for (int c = 0; c < classes; c++) {
            for (int b = 0; b < bins; b++) {
                score[c] += mean[c][b] * centre(b, bins, maxEntropy);
            }
        }
        return new ClassEasiness(mean, shares, score, netScore, ranks(score));
    }

    /** The bin of an entropy in [0, maxEntropy] (the top edge falls in the last bin). */
    public static int bin(double entropy, int bins, double maxEntropy) {
        return (int) Math.max(0, Math.min(bins - 1, Math.floor(entropy / maxEntropy * bins)));
    }

    private static double centre(int b, int bins, double maxEntropy) {
        return (b + 0.5) * maxEntropy / bins;
    }

    /** 1-based ranks of ascending scores (ties: the lower class index first). */
    static int[] ranks(double[] score) {
        Integer[] order = new Integer[score.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> score[a] != score[b] ? Double.compare(score[a], score[b]) : Integer.compare(a, b));
        int[] rank = new int[score.length];
        for (int r = 0; r < order.length; r++) {
            rank[order[r]] = r + 1;
        }
        return rank;
    }

    /** Classes from easiest to hardest. */
    public int[] easiestFirst() {
        int[] out = new int[rank.length];
        for (int c = 0; c < rank.length; c++) {
            out[rank[c] - 1] = c;
        }
        return out;
    }

    public double[][] meanHistogram() {
        return meanHistogram;
    }

    public double[][][] networkHistograms() {
        return networkHistograms;
    }

    /** Mean entropy per class under the mean histogram (nats). */
    public double[] score() {
        return score;
    }

    /** Mean entropy per class under each network's own histogram. */
    public double[][] networkScore() {
        return networkScore;
    }

    public int[] rank() {
        return rank;
    }

    /** Spearman's rank correlation of two scorings of the same classes (DA-NAS Observation 3: networks agree on easy classes). */
    public static double spearman(double[] a, double[] b) {
        return new SpearmansCorrelation().correlation(a, b);
    }

    public static double kendall(double[] a, double[] b) {
        return new KendallsCorrelation().correlation(a, b);
    }
}
