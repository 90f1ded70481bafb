package io.sparknas.jobs.report;

import io.sparknas.jobs.artifact.ReportOutputs;
import io.sparknas.jobs.artifact.PruneOutputs;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.artifact.RetrainOutputs;
import io.sparknas.jobs.artifact.RankingOutputs;
import io.sparknas.jobs.artifact.EasinessOutputs;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Stage report: an HTML page with PNG charts (JFreeChart) of a run: the Pareto fronts of its searches over every evaluated
 * architecture, with the retrained ones marked; supernet vs stand-alone accuracy with Kendall's tau (ranking stage);
 * training curves of the supernet stages and of the retrained models; and a comparison table of the run and the runs given
 * with {@code --compare} (method, search wall time and CPU-hours, front, best retrained model's test accuracy, params and
 * FLOPs). Outputs {@code index.html}, the PNGs and the table {@code summary}.
 */
public final class ReportStage {

    private static final Logger LOG = LoggerFactory.getLogger(ReportStage.class);

    private ReportStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(ReportOutputs.STAGE, args, Set.of(ReportSettings.COMPARE_OPTION, io.sparknas.jobs.config.StageIndex.OPTION), false, ReportSettings::from, ReportStage::run);
    }

    public static ReportResult run(ReportSettings s, SparkSession spark) throws Exception {
        System.setProperty("java.awt.headless", "true");
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        SparkJobLabel.set(spark, ReportOutputs.STAGE, "reading the run's tables for charts");
        ReportChain chain = ReportChain.of(store, s.index().k());
        List<StageRecord> stages = chain.stages();
        if (chain.stage(chain.searchDir()).isEmpty()) {
            String index = s.index().k() > 1 ? " --stage-index " + s.index().k() : "";
            throw new InputDataException("Run " + s.run().runId() + " has no committed " + chain.searchDir() + " stage to report on: run "
                    + "submit/search.sh" + index + " first (report" + index + " reports the method whose last search is " + chain.searchDir() + ").");
        }
        List<StageRecord.Input> inputs = new ArrayList<>();
        for (StageRecord r : stages) {
            inputs.add(new StageRecord.Input(r.stageDir(), store.stageDir(r.stageDir()).toString(), r.fingerprint()));
        }
        for (String other : s.compare()) {
            RunStore o = new RunStore(s.run().root(), other, spark.sparkContext().hadoopConfiguration());
            for (StageRecord r : o.committedStages()) {
                inputs.add(new StageRecord.Input(other + "/" + r.stageDir(), o.stageDir(r.stageDir()).toString(), r.fingerprint()));
            }
        }
        StageCommit commit = StageCommit.begin(store, s.run(), ReportOutputs.STAGE, s.index().dirIndex(), NasConfig.hash(s.run().config(), ReportSettings.SECTIONS)
                + "|" + String.join(",", s.compare()) + "|source=" + chain.searchDir(), null, inputs);
        if (commit.skipped()) {
            return new ReportResult(commit.existing(), store.stageDir(commit.stageDir()).toString(), true);
        }
        String dir = store.stageDir(commit.stageDir()).toString();
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>spark-nas report: ").append(esc(s.run().runId()))
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}"
                        + "td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}th{background:#eee}td.l{text-align:left}"
                        + "img{max-width:100%;border:1px solid #ddd;margin:8px 0}</style></head><body>\n")
                .append("<h1>Run ").append(esc(s.run().runId())).append("</h1>\n");

        List<Row> summary = new ArrayList<>();
        summary.add(summarize(spark, store, s.run().runId(), chain));
        for (String other : s.compare()) {
            RunStore o = new RunStore(s.run().root(), other, spark.sparkContext().hadoopConfiguration());
            for (ReportChain c : ReportChain.all(o, other)) {
                summary.add(summarize(spark, o, other, c));
            }
        }
        html.append("<h2>Method comparison</h2>\n").append(summaryTable(summary));

        List<String> charts = new ArrayList<>();
        StageRecord lastSearch = chain.stage(chain.searchDir()).orElseThrow();
        List<Row> readOff = lastSearch.tables().containsKey(SearchOutputs.PARETO_FRONT) ? List.of()
                : spark.read().parquet(store.tableUri(lastSearch.stageDir(), io.sparknas.jobs.artifact.GeneratedArchsTable.TABLE))
                        .select("arch", "mflops", "mparams", "accuracy", "chosen_by").collectAsList();
        if (readOff.size() == 1) {
            // one architecture read off (DA-NAS argmax, DSO-NAS non-zero lambdas): a one-point chart says nothing; the facts do
            Row a = readOff.get(0);
            html.append("<h2>Architecture read off</h2>\n<p><code>").append(esc(a.getString(0))).append("</code>: ")
                    .append(String.format(Locale.ROOT, "%.3f MFLOPs, %.3f M params, supernet val accuracy %.4f", a.getDouble(1), a.getDouble(2),
                            a.getDouble(3))).append(" (").append(esc(a.getString(4))).append(").</p>\n");
        } else {
            JFreeChart pareto = paretoChart(spark, store, chain);
            charts.add(write(store, dir, "pareto_front.png", pareto, s));
            html.append("<h2>Pareto front</h2>\n<p>Supernet accuracy on val (BatchNorm recalibrated) against cost of every architecture the "
                    + "searches evaluated; the fronts as lines; retrained architectures circled.</p>\n<img src=\"pareto_front.png\" alt=\"Pareto front\">\n");
        }
        if (chain.stage(chain.rankingDir()).isPresent()) {
            charts.add(write(store, dir, "ranking.png", rankingChart(spark, store, chain.stage(chain.rankingDir()).orElseThrow()), s));
            html.append("<h2>Ranking consistency</h2>\n<p>Supernet accuracy against stand-alone test accuracy after a short training "
                    + "(PAD-NAS section 4.3).</p>\n<img src=\"ranking.png\" alt=\"Ranking\">\n");
        }
        if (has(stages, EasinessOutputs.STAGE)) {
            charts.add(write(store, dir, "easiness.png", DaNasCharts.easiness(spark, store), s));
            html.append("<h2>Class easiness</h2>\n<p>DA-NAS Eq. 1-3: per class (rows, easiest first) the mean over the reference networks of the "
                    + "share of its train images per entropy bin.</p>\n<img src=\"easiness.png\" alt=\"Class easiness\">\n")
                    .append(DaNasCharts.agreementTable(spark, store));
        }
        for (StageRecord r : stages) {
            if (r.stage().equals(SupernetTrainOutputs.STAGE) && r.tables().containsKey(io.sparknas.jobs.artifact.ArchParamsTable.TABLE)
                    && r.tables().get(io.sparknas.jobs.artifact.ArchParamsTable.TABLE).rows() > 0) {
                String name = r.stageDir() + "_arch_params.png";
                charts.add(write(store, dir, name, DaNasCharts.candidates(spark, store, r.stageDir()), s));
                html.append("<h2>Architecture parameters (").append(esc(r.stageDir())).append(")</h2>\n<p>Per epoch, the live candidates per layer "
                        + "(pruning) and the mean over layers of the largest softmax(a) (how decided the distribution is).</p>\n<img src=\"")
                        .append(name).append("\" alt=\"Architecture parameters\">\n");
                if (ArchParamCharts.has(spark, store, r.stageDir(), "theta")) {
                    String thetaName = r.stageDir() + "_theta.png";
                    charts.add(writeImage(store, dir, thetaName, ArchParamCharts.perLayer(spark, store, r.stageDir(), "theta")));
                    html.append("<h2>Distribution theta per layer (").append(esc(r.stageDir())).append(")</h2>\n<p>DDPNAS Eq. 4-5 (the paper's "
                            + "Fig. 4): theta of every op after each epoch; thin lines: pruned ops, whose probability stays in the normalisation."
                            + "</p>\n<img src=\"").append(thetaName).append("\" alt=\"theta per layer\">\n");
                }
                if (ArchParamCharts.has(spark, store, r.stageDir(), "lambda")) {
                    String lambdaName = r.stageDir() + "_lambda.png";
                    charts.add(writeImage(store, dir, lambdaName, ArchParamCharts.perLayer(spark, store, r.stageDir(), "lambda")));
                    html.append("<h2>Scaling factors lambda per layer (").append(esc(r.stageDir())).append(")</h2>\n<p>DSO-NAS Eq. 14-16: lambda of "
                            + "every op after each epoch (1 during pre-training); an op whose lambda is 0 at an epoch's end is pruned (thin line), "
                            + "the ops left with lambda != 0 are the architecture.</p>\n<img src=\"").append(lambdaName).append("\" alt=\"lambda per layer\">\n");
                }
            }
        }
        charts.add(write(store, dir, "training.png", trainingChart(spark, store, chain), s));
        charts.add(write(store, dir, "accuracy.png", accuracyChart(spark, store, chain), s));
        html.append("<h2>Training curves</h2>\n<img src=\"training.png\" alt=\"Training loss\">\n"
                + "<p>Supernet: accuracy of the sampled paths on their training batches. Retrained models: accuracy on the val split "
                + "after each epoch, BatchNorm recalibrated (nas.retrain.epoch-val-images).</p>\n<img src=\"accuracy.png\" alt=\"Accuracy per epoch\">\n");
        html.append("<p>Stages: ").append(esc(String.join(", ", stages.stream().map(StageRecord::stageDir).toList()))).append("</p>\n</body></html>\n");
        try (FSDataOutputStream out = store.fileSystem().create(new Path(dir + "/index.html"), false)) {
            out.write(html.toString().getBytes(StandardCharsets.UTF_8));
        }
        spark.createDataFrame(summary, ReportOutputs.SUMMARY_SCHEMA).coalesce(1).write().parquet(commit.tableUri(ReportOutputs.SUMMARY));
        commit.addTable(ReportOutputs.SUMMARY, summary.size(), ReportOutputs.SCHEMA_VERSION, List.of());
        commit.putProperty("charts", String.join(",", charts));
        commit.putProperty("headline", headline(spark, store, chain, summary.get(0)));
        commit.putProperty("page", dir + "/index.html");
        LOG.info("report: {} and {} charts at {}", "index.html", charts.size(), dir);
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        return new ReportResult(record, store.stageDir(record.stageDir()).toString(), false);
    }

    /**
     * The run's result in one line, for the console at the end of a pipeline: the retrained architecture chosen by val with
     * its test accuracy, MFLOPs, parameters and latency, the search's wall time, and Kendall tau where ranking ran.
     */
    static String headline(SparkSession spark, RunStore store, ReportChain chain, Row r) {
        StringBuilder h = new StringBuilder(r.getString(1)).append(": ");
        if (r.isNullAt(8)) {
            h.append("no retrained model yet; best of the search ").append(r.isNullAt(7) ? "-" : r.getString(7))
                    .append(" (supernet val accuracy ").append(num(r, 6, "%.4f")).append(")");
        } else {
            Double latency = null;
            List<Row> lat = spark.read().parquet(store.tableUri(chain.retrainDir(), RetrainOutputs.FINAL_MODELS))
                    .where(org.apache.spark.sql.functions.col("arch").equalTo(r.getString(7))).select("latency_ms").limit(1).collectAsList();
            if (!lat.isEmpty() && !lat.get(0).isNullAt(0)) {
                latency = lat.get(0).getDouble(0);
            }
            h.append("best architecture (by val) ").append(r.getString(7)).append(": test accuracy ").append(num(r, 8, "%.4f")).append(", ")
                    .append(num(r, 10, "%.3f")).append(" MFLOPs, ").append(num(r, 9, "%.3f")).append(" M params, latency ")
                    .append(latency == null ? "- (no latency-profile)" : String.format(Locale.ROOT, "%.2f ms", latency));
        }
        h.append(String.format(Locale.ROOT, "; search %.0f s (%.2f CPU-hours, %d evaluations)", r.getDouble(2), r.getDouble(3), r.getLong(4)));
        if (!r.isNullAt(11)) {
            h.append(String.format(Locale.ROOT, "; Kendall tau %.3f", r.getDouble(11)));
        } else if (chain.stage(chain.rankingDir()).isPresent()) {
            h.append("; Kendall tau undefined (").append(chain.stage(chain.rankingDir()).get().properties().get("kendall_tau_undefined")).append(")");
        }
        return h.toString();
    }

    /** A search stage's architectures: its Pareto front, or a method's read-off ({@code generated_archs}). */
    static String frontTable(StageRecord search) {
        return search.tables().containsKey(SearchOutputs.PARETO_FRONT) ? SearchOutputs.PARETO_FRONT : io.sparknas.jobs.artifact.GeneratedArchsTable.TABLE;
    }

    private static boolean has(List<StageRecord> stages, String stage) {
        return stages.stream().anyMatch(r -> r.stageDir().equals(stage));
    }

    /**
     * One comparison row of a chain: search cost (its supernet training, search and pruning stages), the front of its last
     * search, its retrain's best model, its ranking's tau.
     */
    static Row summarize(SparkSession spark, RunStore store, String runId, ReportChain chain) {
        List<StageRecord> stages = chain.stages();
        double seconds = 0;
        double cpuSeconds = 0;
        long evaluations = 0;
        String method = chain.method();
        StageRecord lastSearch = chain.stage(chain.searchDir()).orElse(null);
        for (StageRecord r : stages) {
            if (r.stage().equals(SupernetTrainOutputs.STAGE) || r.stage().equals(SearchOutputs.STAGE) || r.stage().equals(PruneOutputs.STAGE)) {
                double sec = Duration.between(Instant.parse(r.startedAt()), Instant.parse(r.endedAt())).toMillis() / 1000.0;
                seconds += sec;
                cpuSeconds += sec * Integer.parseInt(r.spark().getOrDefault("default_parallelism", "1"));
            }
            if (r.stage().equals(SearchOutputs.STAGE)) {
                evaluations += Long.parseLong(r.properties().getOrDefault("evaluations", "0"));
            }
        }
        Integer front = null;
        Double bestAcc = null;
        String bestArch = null;
        if (lastSearch != null) {
            List<Row> f = spark.read().parquet(store.tableUri(lastSearch.stageDir(), frontTable(lastSearch)))
                    .orderBy(org.apache.spark.sql.functions.desc("accuracy")).select("arch", "accuracy").collectAsList();
            front = f.size();
            if (!f.isEmpty()) {
                bestArch = f.get(0).getString(0);
                bestAcc = f.get(0).getDouble(1);
            }
        }
        Double test = null;
        Double mparams = null;
        Double mflops = null;
        String retrainDir = chain.retrainDir();
        if (chain.stage(retrainDir).isPresent()) {
            // the best model by its last epoch's val accuracy (by supernet accuracy without one): the test split only reports
            org.apache.spark.sql.Dataset<Row> lastVal = spark.read().parquet(store.tableUri(retrainDir, RetrainOutputs.METRICS))
                    .groupBy("model").agg(org.apache.spark.sql.functions.max_by(org.apache.spark.sql.functions.col("val_accuracy"),
                            org.apache.spark.sql.functions.col("epoch")).as("last_val_accuracy"));
            Row best = spark.read().parquet(store.tableUri(retrainDir, RetrainOutputs.FINAL_MODELS)).join(lastVal, "model")
                    .orderBy(org.apache.spark.sql.functions.desc_nulls_last("last_val_accuracy"),
                            org.apache.spark.sql.functions.desc_nulls_last("supernet_accuracy"), org.apache.spark.sql.functions.asc("model"))
                    .select("test_accuracy", "mparams", "mflops", "arch").first();
            test = best.getDouble(0);
            mparams = best.getDouble(1);
            mflops = best.getDouble(2);
            bestArch = best.getString(3);
        }
        Double tau = chain.stage(chain.rankingDir()).map(r -> r.properties().get("kendall_tau")).map(Double::valueOf).orElse(null);
        return RowFactory.create(runId, method, seconds, cpuSeconds / 3600, evaluations, front == null ? 0 : front, bestAcc, bestArch, test,
                mparams, mflops, tau);
    }

    private static String summaryTable(List<Row> rows) {
        StringBuilder t = new StringBuilder("<table><tr><th>run</th><th>method</th><th>search wall time (s)</th><th>search CPU-hours</th>"
                + "<th>architectures evaluated</th><th>front size</th><th>best supernet accuracy</th><th>test accuracy (retrained)</th>"
                + "<th>params (M)</th><th>MFLOPs</th><th>Kendall tau</th></tr>\n");
        for (Row r : rows) {
            t.append("<tr><td class=\"l\">").append(esc(r.getString(0))).append("</td><td class=\"l\">").append(esc(r.getString(1))).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.0f", r.getDouble(2))).append("</td><td>").append(String.format(Locale.ROOT, "%.3f", r.getDouble(3)))
                    .append("</td><td>").append(r.getLong(4)).append("</td><td>").append(r.getInt(5)).append("</td><td>").append(num(r, 6, "%.4f"))
                    .append("</td><td>").append(num(r, 8, "%.4f")).append("</td><td>").append(num(r, 9, "%.3f")).append("</td><td>")
                    .append(num(r, 10, "%.2f")).append("</td><td>").append(num(r, 11, "%.3f")).append("</td></tr>\n");
        }
        return t.append("</table>\n").toString();
    }

    private static String num(Row r, int i, String fmt) {
        return r.isNullAt(i) ? "-" : String.format(Locale.ROOT, fmt, r.getDouble(i));
    }

    static JFreeChart paretoChart(SparkSession spark, RunStore store, ReportChain chain) {
        List<StageRecord> stages = chain.stages();
        XYSeriesCollection data = new XYSeriesCollection();
        XYSeries all = new XYSeries("evaluated architectures", false, true);
        List<XYSeries> fronts = new ArrayList<>();
        String unit = "cost";
        for (StageRecord r : stages) {
            if (!r.stage().equals(SearchOutputs.STAGE)) {
                continue;
            }
            unit = r.properties().getOrDefault("cost_unit", unit);
            boolean readOff = !r.tables().containsKey(SearchOutputs.PARETO_FRONT);
            if (!readOff) {
                for (Row c : spark.read().parquet(store.tableUri(r.stageDir(), SearchOutputs.CANDIDATES)).select("cost", "accuracy").distinct().collectAsList()) {
                    all.add(c.getDouble(0), c.getDouble(1));
                }
            }
            XYSeries f = new XYSeries((readOff ? "read off by " : "front of ") + r.stageDir(), true, true);
            for (Row c : spark.read().parquet(store.tableUri(r.stageDir(), frontTable(r))).selectExpr(readOff ? "mflops" : "cost", "accuracy")
                    .collectAsList()) {
                f.add(c.getDouble(0), c.getDouble(1));
            }
            fronts.add(f);
        }
        data.addSeries(all);
        fronts.forEach(data::addSeries);
        XYSeries retrained = new XYSeries("retrained", false, true);
        if (chain.stage(chain.retrainDir()).isPresent()) {
            for (Row c : spark.read().parquet(store.tableUri(chain.retrainDir(), RetrainOutputs.FINAL_MODELS)).where("supernet_accuracy is not null")
                    .select("mflops", "supernet_accuracy").collectAsList()) {
                if (unit.equals("mflops")) {
                    retrained.add(c.getDouble(0), c.getDouble(1));
                }
            }
        }
        data.addSeries(retrained);
        XYLineAndShapeRenderer rend = new XYLineAndShapeRenderer();
        rend.setSeriesLinesVisible(0, false);
        rend.setSeriesPaint(0, new Color(150, 150, 150, 140));
        rend.setSeriesShape(0, new Ellipse2D.Double(-2.5, -2.5, 5, 5));
        Color[] palette = {new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44), new Color(148, 103, 189)};
        for (int i = 0; i < fronts.size(); i++) {
            rend.setSeriesLinesVisible(i + 1, true);
            rend.setSeriesPaint(i + 1, palette[i % palette.length]);
            rend.setSeriesStroke(i + 1, new BasicStroke(2f));
            rend.setSeriesShape(i + 1, new Rectangle2D.Double(-3.5, -3.5, 7, 7));
        }
        int ri = fronts.size() + 1;
        rend.setSeriesLinesVisible(ri, false);
        rend.setSeriesShapesFilled(ri, false);
        rend.setSeriesPaint(ri, Color.BLACK);
        rend.setSeriesStroke(ri, new BasicStroke(2f));
        rend.setSeriesShape(ri, new Ellipse2D.Double(-8, -8, 16, 16));
        return chart("Pareto front: supernet accuracy vs cost", "cost (" + unit + ")", "supernet accuracy on val", data, rend, null);
    }

    static JFreeChart rankingChart(SparkSession spark, RunStore store, StageRecord rec) {
        XYSeries s = new XYSeries("architectures", false, true);
        for (Row r : spark.read().parquet(store.tableUri(rec.stageDir(), RankingOutputs.RANKING)).select("supernet_accuracy", "standalone_accuracy")
                .collectAsList()) {
            s.add(r.getDouble(0), r.getDouble(1));
        }
        XYLineAndShapeRenderer rend = new XYLineAndShapeRenderer(false, true);
        rend.setSeriesPaint(0, new Color(31, 119, 180));
        rend.setSeriesShape(0, new Ellipse2D.Double(-5, -5, 10, 10));
        return chart("Supernet vs stand-alone accuracy", "supernet accuracy on val", "stand-alone test accuracy (short training)",
                new XYSeriesCollection(s), rend, String.format(Locale.ROOT, "Kendall tau = %s over %s architectures", rec.properties().getOrDefault("kendall_tau", "undefined"),
                        rec.properties().get("models")));
    }

    /** Training loss per epoch: the supernet stages one after another (sampled paths), then each retrained model. */
    static JFreeChart trainingChart(SparkSession spark, RunStore store, ReportChain chain) {
        return perEpochChart(spark, store, chain, "sum(loss * steps) / sum(steps)", "supernet, sampled paths", "loss", "",
                "Training loss per epoch", "training loss");
    }

    /** Supernet train accuracy of the sampled paths per epoch (stages one after another) and retrained models' val accuracy per epoch. */
    static JFreeChart accuracyChart(SparkSession spark, RunStore store, ReportChain chain) {
        return perEpochChart(spark, store, chain, "sum(train_accuracy * steps) / sum(steps)", "supernet, sampled paths, train batches",
                "val_accuracy", " (val)", "Accuracy per epoch", "top-1 accuracy");
    }

    /**
     * One series per supernet-train stage ({@code supernetExpr} over its train_metrics rounds, epochs of later stages after
     * earlier ones) and one per retrained model ({@code retrainColumn} of retrain_metrics; rows where it is null are left out,
     * as is a column that an older run's table lacks).
     */
    private static JFreeChart perEpochChart(SparkSession spark, RunStore store, ReportChain chain, String supernetExpr, String supernetLabel,
                                            String retrainColumn, String retrainLabel, String title, String yLabel) {
        XYSeriesCollection data = new XYSeriesCollection();
        double offset = 0;
        for (StageRecord r : chain.stages()) {
            if (!r.stage().equals(SupernetTrainOutputs.STAGE)) {
                continue;
            }
            XYSeries s = new XYSeries(r.stageDir() + " (" + supernetLabel + ")", true, true);
            List<Row> rows = spark.read().parquet(store.tableUri(r.stageDir(), SupernetTrainOutputs.METRICS)).where("phase = 'weights'").groupBy("epoch")
                    .agg(org.apache.spark.sql.functions.expr(supernetExpr).as("y")).orderBy("epoch").collectAsList();
            for (Row e : rows) {
                s.add(offset + e.getInt(0), e.getDouble(1));
            }
            offset += rows.size();
            data.addSeries(s);
        }
        if (chain.stage(chain.retrainDir()).isPresent()) {
            Dataset<Row> metrics = spark.read().parquet(store.tableUri(chain.retrainDir(), RetrainOutputs.METRICS));
            if (java.util.Arrays.asList(metrics.columns()).contains(retrainColumn)) {
                metrics = metrics.where(retrainColumn + " is not null");
                for (Row m : metrics.select("model").distinct().orderBy("model").collectAsList()) {
                    XYSeries s = new XYSeries("retrained model " + m.getInt(0) + retrainLabel, true, true);
                    for (Row e : metrics.where("model = " + m.getInt(0)).orderBy("epoch").select("epoch", retrainColumn).collectAsList()) {
                        s.add(e.getInt(0), e.getDouble(1));
                    }
                    data.addSeries(s);
                }
            }
        }
        XYLineAndShapeRenderer rend = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            rend.setSeriesStroke(i, new BasicStroke(2f));
        }
        JFreeChart c = chart(title, "epoch (supernet stages one after another)", yLabel, data, rend, null);
        ((NumberAxis) c.getXYPlot().getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        return c;
    }

    static JFreeChart chart(String title, String x, String y, XYSeriesCollection data, XYLineAndShapeRenderer rend, String subtitle) {
        NumberAxis xa = new NumberAxis(x);
        xa.setAutoRangeIncludesZero(false);
        NumberAxis ya = new NumberAxis(y);
        ya.setAutoRangeIncludesZero(false);
        Font label = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
        Font tick = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        xa.setLabelFont(label);
        ya.setLabelFont(label);
        xa.setTickLabelFont(tick);
        ya.setTickLabelFont(tick);
        // a range of (almost) one value would get a dozen ticks that all read the same ("7.347484E0"): at least 10% of the
        // values' magnitude, and plain decimal tick labels
        xa.setAutoRangeMinimumSize(minimumRange(data, true));
        ya.setAutoRangeMinimumSize(minimumRange(data, false));
        xa.setStandardTickUnits(NumberAxis.createStandardTickUnits(Locale.ROOT));
        ya.setStandardTickUnits(NumberAxis.createStandardTickUnits(Locale.ROOT));
        XYPlot plot = new XYPlot(data, xa, ya, rend);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(220, 220, 220));
        plot.setRangeGridlinePaint(new Color(220, 220, 220));
        JFreeChart c = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 18), plot, true);
        c.setBackgroundPaint(Color.WHITE);
        if (subtitle != null) {
            c.addSubtitle(new TextTitle(subtitle, new Font(Font.SANS_SERIF, Font.PLAIN, 15)));
        }
        c.getLegend().setItemFont(tick);
        return c;
    }

    /** The smallest range an axis shows: 10% of the largest magnitude of its values (1e-3 at least). */
    static double minimumRange(XYSeriesCollection data, boolean x) {
        double m = 0;
        for (int s = 0; s < data.getSeriesCount(); s++) {
            for (int i = 0; i < data.getItemCount(s); i++) {
                double v = x ? data.getXValue(s, i) : data.getYValue(s, i);
                if (Double.isFinite(v)) {
                    m = Math.max(m, Math.abs(v));
                }
            }
        }
        return Math.max(1e-3, 0.1 * m);
    }

    private static String write(RunStore store, String dir, String name, JFreeChart chart, ReportSettings s) throws java.io.IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, s.chartWidth(), s.chartHeight());
        try (FSDataOutputStream out = store.fileSystem().create(new Path(dir + "/" + name), false)) {
            out.write(png.toByteArray());
        }
        return name;
    }

    private static String writeImage(RunStore store, String dir, String name, java.awt.image.BufferedImage img) throws java.io.IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(img, "png", png);
        try (FSDataOutputStream out = store.fileSystem().create(new Path(dir + "/" + name), false)) {
            out.write(png.toByteArray());
        }
        return name;
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
