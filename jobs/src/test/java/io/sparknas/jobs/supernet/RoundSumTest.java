package io.sparknas.jobs.supernet;

import io.sparknas.jobs.bench.RoundBytesListener;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A round's sum: one binary tree over worker indices, the same bits on the driver and on the executors. */
class RoundSumTest {

    static final JavaSparkContext JSC = JavaSparkContext.fromSparkContext(SharedSpark.session().sparkContext());

    /** An architecture round's result of one worker: only a gradient (fresh arrays: merging adds into them). */
    static RoundResult gradient(double[][] g, int worker) {
        double[][] c = new double[g.length][];
        for (int i = 0; i < g.length; i++) {
            c[i] = g[i].clone();
        }
        return new RoundResult(null, c, worker, 1, worker, 10, new long[]{worker, 1}, worker, worker);
    }

    static List<RoundResult> results(List<double[][]> grads) {
        List<RoundResult> out = new ArrayList<>();
        for (int w = 0; w < grads.size(); w++) {
            out.add(gradient(grads.get(w), w));
        }
        return out;
    }

    @Test
    void theTreeAddsInTheSameOrderOnTheDriverAndOnTheExecutors() {
        Random rnd = new Random(5);
        for (int n = 1; n <= 9; n++) {
            List<double[][]> grads = new ArrayList<>();
            for (int w = 0; w < n; w++) {
                double[][] g = new double[3][4];
                for (double[] row : g) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(12)); // magnitudes far apart: the order shows
                    }
                }
                grads.add(g);
            }
            RoundResult driver = RoundSum.onDriver(results(grads));
            RoundResult executors = RoundSum.onExecutors(JSC.parallelize(results(grads), n), n);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 4; j++) {
                    assertEquals(Double.doubleToLongBits(driver.gradient()[i][j]), Double.doubleToLongBits(executors.gradient()[i][j]),
                            n + " workers, entry " + i + "," + j);
                }
            }
            assertEquals(driver.steps(), n);
            assertEquals(executors.steps(), n);
            assertEquals(n * (n - 1) / 2, executors.lossSum(), "every worker's loss once");
            assertEquals(n - 1, executors.computeSeconds(), "the longest task");
            assertEquals(n * (n - 1) / 2, executors.classImages()[0]);
        }
    }

    @Test
    void theTreeIsPairwiseOverWorkerIndicesNotALeftFold() {
        // 1e16 + 1 rounds to 1e16: ((1e16 + 1) + (-1e16 + 1)) = 0, where (((1e16 + 1) + -1e16) + 1) = 1
        List<double[][]> grads = List.of(new double[][]{{1e16}}, new double[][]{{1}}, new double[][]{{-1e16}}, new double[][]{{1}});
        assertEquals(0.0, RoundSum.onDriver(results(grads)).gradient()[0][0]);
        assertEquals(0.0, RoundSum.onExecutors(JSC.parallelize(results(grads), 4), 4).gradient()[0][0]);
        double leftFold = ((1e16 + 1) + -1e16) + 1;
        assertNotEquals(0.0, leftFold, "the example tells the orders apart");
    }

    @Test
    void weightSumsAverageToTheSameSupernetEitherWay() {
        SearchSpace space = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10, 1));
        OptimizerSettings opt = new OptimizerSettings(0.05, 0.9, 4e-5, "cosine", 10, 0, 0);
        List<RoundResult> perWorker = new ArrayList<>();
        SupernetState start = SupernetState.capture(new Supernet(space, opt, 0, Supernet.Init.ALIGNED));
        for (int w = 0; w < 5; w++) {
            Supernet net = new Supernet(space, opt, w + 1, Supernet.Init.INDEPENDENT);
            SupernetState.Sum sum = SupernetState.accumulate(net, SupernetState.capture(net).params().keySet());
            perWorker.add(new RoundResult(sum, null, 1, 1, 0, 1, new long[]{1}, 0, 0));
        }
        // serialised copies for the executors: the driver's tree merges into its own objects
        List<RoundResult> copies = JSC.parallelize(perWorker, 5).collect();
        String onExecutors = start.averageInto(RoundSum.onExecutors(JSC.parallelize(copies, 5), 5).sum()).sha256();
        String onDriver = start.averageInto(RoundSum.onDriver(perWorker).sum()).sha256();
        assertEquals(onDriver, onExecutors);
        assertNotEquals(start.sha256(), onDriver, "the average moved the state");
    }

    @Test
    void onSixteenWorkersTheDriverReceivesOneCombinedSumNotSixteen() throws Exception {
        int workers = 16;
        List<double[][]> grads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            double[][] g = new double[1][100_000];
            java.util.Arrays.fill(g[0], w + 1);
            grads.add(g);
        }
        long one = io.sparknas.jobs.bench.ScaleBench.serializedSize(gradient(grads.get(0), 0));
        RoundBytesListener bytes = new RoundBytesListener();
        JSC.sc().addSparkListener(bytes);
        try {
            JSC.setJobGroup("test", "test weight round on the executors");
            RoundResult executors = RoundSum.onExecutors(JSC.parallelize(results(grads), workers), workers);
            JSC.setJobGroup("test", "test weight round on the driver");
            RoundResult driver = RoundSum.onDriver(JSC.parallelize(results(grads), workers).collect());
            JSC.clearJobGroup();
            JSC.sc().listenerBus().waitUntilEmpty();
            assertEquals(workers * (workers + 1) / 2.0, executors.gradient()[0][7], "the sum of the 16 workers");
            assertEquals(driver.gradient()[0][7], executors.gradient()[0][7]);
            long viaExecutors = bytes.resultBytes("test weight round on the executors");
            long viaDriver = bytes.resultBytes("test weight round on the driver");
            assertTrue(viaExecutors > 0.9 * one && viaExecutors <= 1.5 * one, "one combined sum (" + one + " bytes): " + viaExecutors);
            assertTrue(viaDriver >= 0.9 * workers * one, "collecting on the driver brings every worker's: " + viaDriver);
        } finally {
            JSC.sc().removeSparkListener(bytes);
        }
    }

    @Test
    void autoSumsOnTheExecutorsOnceTheWorkersResultsExceedTheLimit() {
        long mb = 1L << 20;
        assertEquals(RoundSum.Where.DRIVER, RoundSum.choose("auto", 2, 10 * mb, 256 * mb));
        assertEquals(RoundSum.Where.EXECUTORS, RoundSum.choose("auto", 16, 76 * mb, 256 * mb), "ImageNet's mobile space on 16 workers");
        assertEquals(RoundSum.Where.DRIVER, RoundSum.choose("auto", 1, 1024 * mb, 256 * mb), "one worker: nothing to sum");
        assertEquals(RoundSum.Where.EXECUTORS, RoundSum.choose("executors", 2, 1, 256 * mb));
        assertEquals(RoundSum.Where.DRIVER, RoundSum.choose("driver", 16, 76 * mb, 256 * mb));
    }
}
