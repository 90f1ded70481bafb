package io.sparknas.jobs.report;

import java.util.Arrays;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.artifact.RetrainOutputs;
import io.sparknas.jobs.artifact.RankingOutputs;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report's run-level charts: the Pareto front, the ranking, and loss and accuracy per epoch across the supernet stages
 * and the retrained models; {@link #chart} gives every chart of the report (also {@link DaNasCharts} and
 * {@link ArchParamCharts}) the same look.
 */
final class RunCharts {

    private RunCharts() {
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
            for (Row c : spark.read().parquet(store.tableUri(r.stageDir(), SearchOutputs.architecturesTable(r))).selectExpr(readOff ? "mflops" : "cost", "accuracy")
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
            if (Arrays.asList(metrics.columns()).contains(retrainColumn)) {
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
}
