package io.sparknas.jobs.report;

import java.awt.geom.Rectangle2D;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.artifact.ArchParamsTable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The report's per-layer charts of a method's parameter over epochs, one small plot per layer: DDPNAS's theta (the paper's
 * Fig. 4; a pruned op's line goes on, its probability is kept for the normalisation) and DSO-NAS's lambda (an op stays at 0
 * once pruned). A pruned op's line is drawn thin and its legend says when it was pruned.
 */
final class ArchParamCharts {

    private static final int COLUMNS = 3;
    private static final int CELL_WIDTH = 600;
    private static final int CELL_HEIGHT = 280;

    private ArchParamCharts() {
    }

    /** Whether a supernet-train stage's arch_params hold rows of {@code kind} ({@code theta}: DDPNAS; {@code lambda}: DSO-NAS). */
    static boolean has(SparkSession spark, RunStore store, String stageDir, String kind) {
        return !spark.read().parquet(store.tableUri(stageDir, ArchParamsTable.TABLE)).where("kind = '" + kind + "'").isEmpty();
    }

    /** The grid of per-layer plots of {@code kind}. */
    static BufferedImage perLayer(SparkSession spark, RunStore store, String stageDir, String kind) {
        List<Row> rows = spark.read().parquet(store.tableUri(stageDir, ArchParamsTable.TABLE)).where("kind in ('" + kind + "', 'pruned')")
                .select("epoch", "layer", "op", "value", "kind").orderBy("layer", "op", "epoch").collectAsList();
        Map<Integer, Map<String, XYSeries>> perLayer = new TreeMap<>();
        Map<String, Double> prunedAt = new TreeMap<>();
        for (Row r : rows) {
            if (r.getString(4).equals("pruned")) {
                prunedAt.putIfAbsent(r.getInt(1) + "/" + r.getString(2), r.getDouble(3));
            }
        }
        for (Row r : rows) {
            if (r.getString(4).equals(kind)) {
                perLayer.computeIfAbsent(r.getInt(1), k -> new TreeMap<>()).computeIfAbsent(r.getString(2), XYSeries::new)
                        .add(r.getInt(0), r.getDouble(3));
            }
        }
        int layers = perLayer.size();
        int gridRows = (layers + COLUMNS - 1) / COLUMNS;
        BufferedImage img = new BufferedImage(COLUMNS * CELL_WIDTH, Math.max(1, gridRows) * CELL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        int cell = 0;
        for (Map.Entry<Integer, Map<String, XYSeries>> layer : perLayer.entrySet()) {
            XYSeriesCollection data = new XYSeriesCollection();
            XYLineAndShapeRenderer rend = new XYLineAndShapeRenderer(true, false);
            int i = 0;
            for (Map.Entry<String, XYSeries> op : layer.getValue().entrySet()) {
                Double pruned = prunedAt.get(layer.getKey() + "/" + op.getKey());
                XYSeries s = op.getValue();
                if (pruned != null) {
                    s.setKey(op.getKey() + " (pruned, epoch " + pruned.intValue() + ")");
                }
                data.addSeries(s);
                rend.setSeriesStroke(i, new BasicStroke(pruned == null ? 2.5f : 1f));
                i++;
            }
            JFreeChart chart = RunCharts.chart("layer " + layer.getKey(), "epoch", kind, data, rend, null);
            // the legend beside the plot, in a small font: below it, seven ops' entries took most of the cell's height
            chart.getLegend().setPosition(RectangleEdge.RIGHT);
            chart.getLegend().setItemFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            // epochs are whole numbers
            ((NumberAxis) chart.getXYPlot().getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits(Locale.ROOT));
            chart.draw(g, new Rectangle2D.Double((cell % COLUMNS) * CELL_WIDTH, (cell / COLUMNS) * CELL_HEIGHT, CELL_WIDTH, CELL_HEIGHT));
            cell++;
        }
        g.dispose();
        return img;
    }
}
