package io.sparknas.jobs.supernet;

import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.List;

/**
 * Sums a round's per-worker results in one fixed binary tree over the worker indices: at span 1, 2, 4, ... the result of
 * the group that starts at worker {@code i} (a multiple of twice the span) takes in the group that starts at {@code i + span}.
 * The order of every float addition is a function of the number of workers alone, so the sum is the same bits on any
 * cluster, and the same whether the tree is walked on the driver ({@link #onDriver}) or on the executors
 * ({@link #onExecutors}, one shuffle per level). On the executors the driver receives one result, of the size of the model,
 * where collecting every worker's would bring it workers x model bytes a round (16 workers of ImageNet's mobile space: about
 * 1.2 GB, beyond {@code spark.driver.maxResultSize}).
 */
final class RoundSum {

    /** Where the tree is walked: {@code nas.supernet.combine}. */
    enum Where { DRIVER, EXECUTORS }

    private RoundSum() {
    }

    /**
     * {@code nas.supernet.combine = auto}: on the executors once the workers' results together exceed {@code limitBytes},
     * else on the driver (one Spark stage less per round). Either gives the same sum.
     */
    static Where choose(String setting, int workers, long resultBytes, long limitBytes) {
        return switch (setting) {
            case "driver" -> Where.DRIVER;
            case "executors" -> Where.EXECUTORS;
            default -> workers > 1 && workers * resultBytes > limitBytes ? Where.EXECUTORS : Where.DRIVER;
        };
    }

    /** The tree over {@code perWorker} (index = worker), walked on the driver. */
    static RoundResult onDriver(List<RoundResult> perWorker) {
        List<RoundResult> node = new ArrayList<>(perWorker);
        int n = node.size();
        for (int span = 1; span < n; span *= 2) {
            for (int i = 0; i + span < n; i += 2 * span) {
                node.set(i, node.get(i).merge(node.get(i + span)));
            }
        }
        return node.get(0);
    }

    /**
     * The tree over the results of {@code perWorker} (one per partition, partition = worker), walked on the executors: each
     * level groups the pairs of groups by their left index and merges left then right; the driver collects the root.
     */
    static RoundResult onExecutors(JavaRDD<RoundResult> perWorker, int workers) {
        JavaPairRDD<Integer, RoundResult> node = perWorker.mapPartitionsWithIndex((w, it) -> {
            List<Tuple2<Integer, RoundResult>> one = new ArrayList<>();
            it.forEachRemaining(r -> one.add(new Tuple2<>(w, r)));
            return one.iterator();
        }, true).mapToPair(t -> t);
        for (int span = 1; span < workers; span *= 2) {
            int width = 2 * span;
            int groups = (workers + width - 1) / width;
            node = node.mapToPair(t -> new Tuple2<>(t._1() - t._1() % width, t))
                    .groupByKey(new HashPartitioner(groups))
                    .mapToPair(g -> {
                        RoundResult left = null;
                        RoundResult right = null;
                        for (Tuple2<Integer, RoundResult> t : g._2()) {
                            if (t._1().equals(g._1())) {
                                left = t._2();
                            } else {
                                right = t._2();
                            }
                        }
                        return new Tuple2<>(g._1(), right == null ? left : left.merge(right));
                    });
        }
        List<RoundResult> root = node.values().collect();
        if (root.size() != 1) {
            throw new IllegalStateException("the round's tree ended in " + root.size() + " results, expected 1 (" + workers + " workers)");
        }
        return root.get(0);
    }
}
