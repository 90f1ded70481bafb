package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.Sample;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import io.sparknas.search.strategy.TrainingStrategy.EpochPlan;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The data views a strategy's epochs read (class subsets, the id-fixed split of train into D_w / D_lambda), on real images. */
class DataViewsTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static RunStore store;

    @BeforeAll
    static void ingest() {
        spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "v", false, Map.of("nas.ingest.train-per-class", "50",
                "nas.ingest.val-per-class", "10", "nas.ingest.test-per-class", "10")), spark);
        store = new RunStore(root.toUri(), "v", spark.sparkContext().hadoopConfiguration());
    }

    @Test
    void idFixedPartsSplitEveryShardInTheSameSharesAndAnEpochsViewsAreDisjoint() {
        // DSO-NAS's D_w / D_lambda: 80% of train for weight steps, the rest for architecture steps, by image id
        EpochPlan plan = new EpochPlan(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true, "split", "train", 0.8, true);
        RoundTask.View weights = DataViews.weightView(plan, 10);
        RoundTask.View arch = DataViews.architectureView(plan, 10);
        List<List<Sample>> shards = ImageSplits.sharded(spark, store, "train", 2, 0, 0).glom().collect();
        long[][][] counts = DataViews.classCounts(spark, store, "train", 2, 10);
        int total = 0;
        for (int w = 0; w < shards.size(); w++) {
            int inW = 0;
            int inA = 0;
            for (Sample smp : shards.get(w)) {
                assertTrue(weights.holds(smp) != arch.holds(smp), "every train image in exactly one of D_w and D_lambda");
                inW += weights.holds(smp) ? 1 : 0;
                inA += arch.holds(smp) ? 1 : 0;
            }
            double share = (double) inW / (inW + inA);
            assertTrue(share > 0.72 && share < 0.88, "worker " + w + "'s shard splits about 80 : 20: " + inW + " : " + inA);
            total += inW + inA;
        }
        assertEquals(500, total);
        // the counts the trainer plans its steps with agree with what the views hold
        long minW = Math.min(shards.get(0).stream().filter(weights::holds).count(), shards.get(1).stream().filter(weights::holds).count());
        assertEquals(minW, DataViews.minImages(counts, weights));
        // the part ingest stored is a function of the id alone
        for (Row r : ImageSplits.rows(spark, store, "train").select("id", "part").collectAsList()) {
            String id = r.getString(0);
            assertEquals(ImageSplits.partOf(new String(id.toCharArray())), r.getInt(1));
        }
    }

    @Test
    void aClassSubsetViewHoldsOnlyItsClassesAndValViewsHoldEveryPart() {
        EpochPlan plan = new EpochPlan(new int[]{2, 7}, true, "two classes");
        RoundTask.View weights = DataViews.weightView(plan, 10);
        RoundTask.View val = DataViews.architectureView(plan, 10);
        for (Sample smp : ImageSplits.sharded(spark, store, "train", 2, 0, 0).collect()) {
            assertEquals(smp.label() == 2 || smp.label() == 7, weights.holds(smp));
            assertEquals(weights.holds(smp), val.holds(smp), "the val view takes every part of the epoch's classes");
        }
        assertFalse(DataViews.weightView(new EpochPlan(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, false, "all"), 10).classes() != null,
                "an epoch on every class filters no class");
        assertThrows(IllegalArgumentException.class, () -> new EpochPlan(new int[]{0}, true, "x", "train", 1.0, false),
                "architecture steps on train need a share of it left");
    }
}
