package io.sparknas.jobs.report;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.awt.image.BufferedImage;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.artifact.GeneratedArchsTable;
import io.sparknas.jobs.artifact.ArchParamsTable;
import io.sparknas.jobs.artifact.ReportOutputs;
import io.sparknas.jobs.artifact.PruneOutputs;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.artifact.RetrainOutputs;
import io.sparknas.jobs.artifact.EasinessOutputs;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.launch.StageLauncher;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
        StageLauncher.launch(ReportOutputs.STAGE, args, Set.of(ReportSettings.COMPARE_OPTION, StageIndex.OPTION), false, ReportSettings::from, ReportStage::run);
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
        html.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>spark-nas report: ").append(ReportHtml.esc(s.run().runId()))
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}"
                        + "td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}th{background:#eee}td.l{text-align:left}"
                        + "img{max-width:100%;border:1px solid #ddd;margin:8px 0}</style></head><body>\n")
                .append("<h1>Run ").append(ReportHtml.esc(s.run().runId())).append("</h1>\n");

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
                : spark.read().parquet(store.tableUri(lastSearch.stageDir(), GeneratedArchsTable.TABLE))
                        .select("arch", "mflops", "mparams", "accuracy", "chosen_by").collectAsList();
        if (readOff.size() == 1) {
            // one architecture read off (DA-NAS argmax, DSO-NAS non-zero lambdas): a one-point chart says nothing; the facts do
            Row a = readOff.get(0);
            html.append("<h2>Architecture read off</h2>\n<p><code>").append(ReportHtml.esc(a.getString(0))).append("</code>: ")
                    .append(String.format(Locale.ROOT, "%.3f MFLOPs, %.3f M params, supernet val accuracy %.4f", a.getDouble(1), a.getDouble(2),
                            a.getDouble(3))).append(" (").append(ReportHtml.esc(a.getString(4))).append(").</p>\n");
        } else {
            JFreeChart pareto = RunCharts.paretoChart(spark, store, chain);
            charts.add(write(store, dir, "pareto_front.png", pareto, s));
            html.append("<h2>Pareto front</h2>\n<p>Supernet accuracy on val (BatchNorm recalibrated) against cost of every architecture the "
                    + "searches evaluated; the fronts as lines; retrained architectures circled.</p>\n<img src=\"pareto_front.png\" alt=\"Pareto front\">\n");
        }
        if (chain.stage(chain.rankingDir()).isPresent()) {
            charts.add(write(store, dir, "ranking.png", RunCharts.rankingChart(spark, store, chain.stage(chain.rankingDir()).orElseThrow()), s));
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
            if (r.stage().equals(SupernetTrainOutputs.STAGE) && r.tables().containsKey(ArchParamsTable.TABLE)
                    && r.tables().get(ArchParamsTable.TABLE).rows() > 0) {
                String name = r.stageDir() + "_arch_params.png";
                charts.add(write(store, dir, name, DaNasCharts.candidates(spark, store, r.stageDir()), s));
                html.append("<h2>Architecture parameters (").append(ReportHtml.esc(r.stageDir())).append(")</h2>\n<p>Per epoch, the live candidates per layer "
                        + "(pruning) and the mean over layers of the largest softmax(a) (how decided the distribution is).</p>\n<img src=\"")
                        .append(name).append("\" alt=\"Architecture parameters\">\n");
                if (ArchParamCharts.has(spark, store, r.stageDir(), "theta")) {
                    String thetaName = r.stageDir() + "_theta.png";
                    charts.add(writeImage(store, dir, thetaName, ArchParamCharts.perLayer(spark, store, r.stageDir(), "theta")));
                    html.append("<h2>Distribution theta per layer (").append(ReportHtml.esc(r.stageDir())).append(")</h2>\n<p>DDPNAS Eq. 4-5 (the paper's "
                            + "Fig. 4): theta of every op after each epoch; thin lines: pruned ops, whose probability stays in the normalisation."
                            + "</p>\n<img src=\"").append(thetaName).append("\" alt=\"theta per layer\">\n");
                }
                if (ArchParamCharts.has(spark, store, r.stageDir(), "lambda")) {
                    String lambdaName = r.stageDir() + "_lambda.png";
                    charts.add(writeImage(store, dir, lambdaName, ArchParamCharts.perLayer(spark, store, r.stageDir(), "lambda")));
                    html.append("<h2>Scaling factors lambda per layer (").append(ReportHtml.esc(r.stageDir())).append(")</h2>\n<p>DSO-NAS Eq. 14-16: lambda of "
                            + "every op after each epoch (1 during pre-training); an op whose lambda is 0 at an epoch's end is pruned (thin line), "
                            + "the ops left with lambda != 0 are the architecture.</p>\n<img src=\"").append(lambdaName).append("\" alt=\"lambda per layer\">\n");
                }
            }
        }
        charts.add(write(store, dir, "training.png", RunCharts.trainingChart(spark, store, chain), s));
        charts.add(write(store, dir, "accuracy.png", RunCharts.accuracyChart(spark, store, chain), s));
        html.append("<h2>Training curves</h2>\n<img src=\"training.png\" alt=\"Training loss\">\n"
                + "<p>Supernet: accuracy of the sampled paths on their training batches. Retrained models: accuracy on the val split "
                + "after each epoch, BatchNorm recalibrated (nas.retrain.epoch-val-images).</p>\n<img src=\"accuracy.png\" alt=\"Accuracy per epoch\">\n");
        html.append("<p>Stages: ").append(ReportHtml.esc(String.join(", ", stages.stream().map(StageRecord::stageDir).toList()))).append("</p>\n</body></html>\n");
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
            List<Row> f = spark.read().parquet(store.tableUri(lastSearch.stageDir(), SearchOutputs.architecturesTable(lastSearch)))
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
            Dataset<Row> lastVal = spark.read().parquet(store.tableUri(retrainDir, RetrainOutputs.METRICS))
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
            t.append("<tr><td class=\"l\">").append(ReportHtml.esc(r.getString(0))).append("</td><td class=\"l\">").append(ReportHtml.esc(r.getString(1))).append("</td><td>")
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

    private static String write(RunStore store, String dir, String name, JFreeChart chart, ReportSettings s) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, s.chartWidth(), s.chartHeight());
        try (FSDataOutputStream out = store.fileSystem().create(new Path(dir + "/" + name), false)) {
            out.write(png.toByteArray());
        }
        return name;
    }

    private static String writeImage(RunStore store, String dir, String name, BufferedImage img) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(img, "png", png);
        try (FSDataOutputStream out = store.fileSystem().create(new Path(dir + "/" + name), false)) {
            out.write(png.toByteArray());
        }
        return name;
    }
}
