package io.sparknas.jobs.testing;

import java.util.Map;

/**
 * Overrides of the tiny preset for a very small real run through every stage (300 train images, a 1-epoch supernet, a
 * 4 x 1 search, 1-epoch retraining, a 2-model ranking): for tests of what a stage does, not of what it learns.
 */
public final class SmallRun {

    private SmallRun() {
    }

    public static final Map<String, String> SETTINGS = Map.ofEntries(Map.entry("nas.ingest.train-per-class", "30"),
            Map.entry("nas.ingest.val-per-class", "10"), Map.entry("nas.ingest.test-per-class", "10"), Map.entry("nas.supernet.epochs", "1"),
            Map.entry("nas.supernet.batch-size", "32"), Map.entry("nas.supernet.steps-per-round", "2"), Map.entry("nas.supernet.eval.paths", "2"),
            Map.entry("nas.supernet.eval.recalibration-batches", "1"), Map.entry("nas.supernet.eval.batch-size", "50"),
            Map.entry("nas.search.population", "4"), Map.entry("nas.search.generations", "1"), Map.entry("nas.search.cost-max", "0"),
            Map.entry("nas.search.eval.recalibration-batches", "1"), Map.entry("nas.search.eval.batch-size", "50"),
            Map.entry("nas.retrain.epochs", "1"), Map.entry("nas.retrain.batch-size", "32"), Map.entry("nas.retrain.epoch-val-images", "50"),
            Map.entry("nas.retrain.recalibration-batches", "1"), Map.entry("nas.ranking.models", "2"), Map.entry("nas.ranking.epochs", "1"),
            Map.entry("nas.ranking.train-images", "100"));
}
