package io.sparknas.jobs.report;

import org.apache.spark.sql.Dataset;
import java.awt.Paint;
import io.sparknas.jobs.artifact.EasinessOutputs;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.artifact.ArchParamsTable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.GrayPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The report's DA-NAS charts: class easiness as a heat map and the network agreement, and the pruning of the candidates. */
final class DaNasCharts {

    private DaNasCharts() {
    }

    /** Rows: classes by easiness rank (top: easiest); columns: entropy bins; shade: mean share of the class's images (dark = more). */
    static JFreeChart easiness(SparkSession spark, RunStore store) {
        List<Row> rows = spark.read().parquet(store.tableUri(EasinessOutputs.STAGE, EasinessOutputs.CLASS_EASINESS)).orderBy("rank")
                .select("class_index", "rank", "histogram").collectAsList();
        int classes = rows.size();
        int bins = rows.get(0).getList(2).size();
        double[][] xyz = new double[3][classes * bins];
        String[] labels = new String[classes];
        double max = 0;
        for (int i = 0; i < classes; i++) {
            Row r = rows.get(i);
            // y = classes - rank, so the easiest class is the top row
            int y = classes - r.getInt(1);
            labels[y] = "class " + r.getInt(0);
            List<Double> h = r.getList(2);
            for (int b = 0; b < bins; b++) {
                int k = i * bins + b;
                xyz[0][k] = b;
                xyz[1][k] = y;
                xyz[2][k] = h.get(b);
                max = Math.max(max, h.get(b));
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("share", xyz);
        XYBlockRenderer rend = new XYBlockRenderer();
        GrayPaintScale scale = new GrayPaintScale(0, Math.max(1e-9, max)) {
            @Override
            public Paint getPaint(double value) {
                // dark = high share
                Color c = (Color) super.getPaint(value);
                return new Color(255 - c.getRed(), 255 - c.getGreen(), 255 - c.getBlue());
            }
        };
        rend.setPaintScale(scale);
        NumberAxis x = new NumberAxis("entropy bin (0 = confident ... " + (bins - 1) + " = ln C)");
        SymbolAxis y = new SymbolAxis("class (easiest at the top)", labels);
        XYPlot plot = new XYPlot(data, x, y, rend);
        plot.setBackgroundPaint(Color.WHITE);
        JFreeChart c = new JFreeChart("Class easiness: mean entropy histogram per class", new Font(Font.SANS_SERIF, Font.BOLD, 18), plot, false);
        c.setBackgroundPaint(Color.WHITE);
        PaintScaleLegend legend = new PaintScaleLegend(scale, new NumberAxis("share of the class's train images"));
        legend.setPosition(RectangleEdge.RIGHT);
        c.addSubtitle(legend);
        return c;
    }

    /** The networks' pairwise agreement (Spearman, Kendall) and the stage's summary figures, as an HTML table. */
    static String agreementTable(SparkSession spark, RunStore store) {
        StringBuilder b = new StringBuilder("<table><tr><th>network</th><th>network</th><th>Spearman rho</th><th>Kendall tau</th></tr>\n");
        for (Row r : spark.read().parquet(store.tableUri(EasinessOutputs.STAGE, EasinessOutputs.NETWORK_AGREEMENT)).collectAsList()) {
            b.append(String.format(Locale.ROOT, "<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%.3f</td><td>%.3f</td></tr>%n",
                    ReportHtml.esc(r.getString(0)), ReportHtml.esc(r.getString(1)), r.getDouble(2), r.getDouble(3)));
        }
        Map<String, String> p = store.committed(EasinessOutputs.STAGE).orElseThrow().properties();
        return b.append("</table>\n<p>Spearman rho between easiness and the networks' mean per-class test accuracy: ")
                .append(ReportHtml.esc(p.get("easiness_accuracy_spearman"))).append("; classes easiest first: ")
                .append(ReportHtml.esc(p.get("easiest_first"))).append(".</p>\n").toString();
    }

    /** Per epoch: live candidates per layer (mean, min, max over layers) and the mean over layers of the largest probability. */
    static JFreeChart candidates(SparkSession spark, RunStore store, String stageDir) {
        Dataset<Row> ap = spark.read().parquet(store.tableUri(stageDir, ArchParamsTable.TABLE));
        // DA-NAS: a pruned op's probability is 0; DDPNAS (theta) and DSO-NAS (lambda): rows for every op, pruned ones marked by
        // a pruned row
        String perOp = !ap.where("kind = 'theta'").isEmpty() ? "theta" : !ap.where("kind = 'lambda'").isEmpty() ? "lambda" : null;
        String live = perOp != null ? "sum(cast(kind = '" + perOp + "' as int)) - sum(cast(kind = 'pruned' as int))"
                : "sum(cast(kind = 'probability' and value > 0 as int))";
        List<Row> rows = ap.where("kind in ('probability', 'theta', 'lambda', 'pruned')")
                .groupBy("epoch", "layer").agg(org.apache.spark.sql.functions.expr(live).cast("long").as("live"),
                        org.apache.spark.sql.functions.expr("max(case when kind in ('probability', 'theta', 'lambda') then value end)").as("top"))
                .groupBy("epoch").agg(org.apache.spark.sql.functions.avg("live"), org.apache.spark.sql.functions.min("live"),
                        org.apache.spark.sql.functions.max("live"), org.apache.spark.sql.functions.avg("top"))
                .orderBy("epoch").collectAsList();
        Map<String, XYSeries> series = new TreeMap<>();
        XYSeries mean = new XYSeries("live candidates per layer (mean)");
        XYSeries min = new XYSeries("live candidates (fewest in a layer)");
        XYSeries max = new XYSeries("live candidates (most in a layer)");
        XYSeries top = new XYSeries((perOp != null ? "largest " + perOp : "largest softmax(a)") + " x 10 (mean over layers)");
        for (Row r : rows) {
            mean.add(r.getInt(0), r.getDouble(1));
            min.add(r.getInt(0), ((Number) r.get(2)).doubleValue());
            max.add(r.getInt(0), ((Number) r.get(3)).doubleValue());
            top.add(r.getInt(0), 10 * r.getDouble(4));
        }
        series.put("a", mean);
        series.put("b", min);
        series.put("c", max);
        series.put("d", top);
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        XYLineAndShapeRenderer rend = new XYLineAndShapeRenderer();
        for (int i = 0; i < 4; i++) {
            rend.setSeriesStroke(i, new BasicStroke(2f));
        }
        return RunCharts.chart("Candidates pruned step by step (" + stageDir + ")", "epoch", "candidates / probability x 10", data, rend, null);
    }
}
