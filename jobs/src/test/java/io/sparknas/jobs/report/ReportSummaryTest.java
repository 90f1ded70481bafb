package io.sparknas.jobs.report;

import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.XYSeries;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.JFreeChart;
import org.apache.hadoop.conf.Configuration;
import java.awt.image.BufferedImage;
import java.awt.geom.Rectangle2D;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.testing.SharedSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The method comparison row: the run's method and the retrained model chosen by val accuracy, never by test accuracy. */
class ReportSummaryTest {

    @TempDir
    Path root;

    private RunSettings run(String method) {
        StageArgs a = StageArgs.parse(new String[]{"--run-root", root.toString(), "--run-id", "r", "-Dnas.run.method=" + method}, Set.of(), false);
        return RunSettings.from(a.loadConfig(), a);
    }

    @Test
    void picksTheRetrainedModelByValAndTheMethodOfTheLatestStage() throws Exception {
        SparkSession spark = SharedSpark.session();
        RunStore store = new RunStore(root.toUri(), "r", spark.sparkContext().hadoopConfiguration());
        List<StageRecord.Input> in = List.of(new StageRecord.Input("x", "file:/x", "h"));
        // a PAD-NAS run whose first stage is shared with SPOS (recorded as spos)
        StageCommit.begin(store, run("spos"), "ingest", 0, "h", 1L, in).commit(Map.of(), "CPU");
        Thread.sleep(20);
        StageCommit retrain = StageCommit.begin(store, run("padnas"), "retrain", 0, "h", 1L, in);
        // model 0 tests best but model 1 validates best: the report must pick model 1
        spark.sql("select 0 as model, 'a0' as arch, 0.40d as supernet_accuracy, 0.90d as test_accuracy, 1.0d as mparams, 5.0d as mflops "
                + "union all select 1, 'a1', 0.30d, 0.80d, 2.0d, 6.0d").write().parquet(retrain.tableUri("final_models"));
        spark.sql("select 0 as model, 1 as epoch, 0.60d as val_accuracy union all select 0, 2, 0.50d union all select 1, 1, 0.40d "
                + "union all select 1, 2, 0.70d").write().parquet(retrain.tableUri("retrain_metrics"));
        retrain.commit(Map.of(), "CPU");
        Row row = ReportStage.summarize(spark, store, "r", ReportChain.of(store, 1));
        assertEquals("padnas", row.getString(1), "method of the chain's retrain");
        assertEquals("a1", row.getString(7), "chosen by its last epoch's val accuracy (0.70 > 0.50)");
        assertEquals(0.80, row.getDouble(8), 1e-12, "and reported with its test accuracy");
    }

    @Test
    void eachMethodsChainHoldsItsOwnStagesAndTheSharedOnes() {
        RunStore store = new RunStore(root.toUri(), "r", new Configuration());
        List<StageRecord.Input> in = List.of(new StageRecord.Input("x", "file:/x", "h"));
        // SPOS (search -> retrain, ranking) and PAD-NAS M = 3 (prune, supernet-train-2, search-2 -> retrain-2, ranking-2)
        String[][] stages = {{"ingest", "0", "spos"}, {"latency-profile", "0", "spos"}, {"supernet-train", "0", "spos"}, {"search", "0", "spos"},
                {"retrain", "0", "spos"}, {"ranking", "0", "spos"}, {"report", "0", "spos"}, {"prune", "0", "padnas"},
                {"supernet-train", "2", "padnas"}, {"search", "2", "padnas"}, {"retrain", "2", "padnas"}, {"ranking", "2", "padnas"}};
        for (String[] st : stages) {
            StageCommit.begin(store, run(st[2]), st[0], Integer.parseInt(st[1]), "h", 1L, in).commit(Map.of(), "CPU");
        }
        ReportChain spos = ReportChain.of(store, 1);
        assertEquals(List.of("ingest", "latency-profile", "ranking", "retrain", "search", "supernet-train"),
                spos.stages().stream().map(StageRecord::stageDir).toList());
        assertEquals("spos", spos.method());
        ReportChain padnas = ReportChain.of(store, 2);
        assertEquals(List.of("ingest", "latency-profile", "prune", "ranking-2", "retrain-2", "search", "search-2", "supernet-train", "supernet-train-2"),
                padnas.stages().stream().map(StageRecord::stageDir).toList());
        assertEquals("padnas", padnas.method(), "the method of the chain's retrain");
        assertEquals(List.of(1, 2), ReportChain.all(store, "r").stream().map(ReportChain::k).toList(), "one report row per retrain");
    }

    @Test
    void aChartOfOnePointSpansAtLeastATenthOfItsValueWithPlainTicks() {
        // DSO-NAS's read-off alone once drew 20 ticks reading "7.347484E0": the axis now spans at least 10% of the value
        XYSeries one = new XYSeries("read off");
        one.add(7.347484, 0.12);
        JFreeChart c = RunCharts.chart("t", "MFLOPs", "accuracy", new XYSeriesCollection(one),
                new XYLineAndShapeRenderer(), null);
        BufferedImage img = new BufferedImage(600, 400, BufferedImage.TYPE_INT_RGB);
        c.draw(img.createGraphics(), new Rectangle2D.Double(0, 0, 600, 400));
        XYPlot plot = c.getXYPlot();
        assertTrue(plot.getDomainAxis().getRange().getLength() >= 0.7347484 - 1e-9, plot.getDomainAxis().getRange().toString());
        assertTrue(plot.getRangeAxis().getRange().getLength() >= 0.012 - 1e-12, plot.getRangeAxis().getRange().toString());
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        String label = x.getTickUnit().valueToString(7.347484);
        assertFalse(label.contains("E"), "plain decimal tick labels: " + label);
    }
}
