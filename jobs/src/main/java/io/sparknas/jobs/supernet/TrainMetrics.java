package io.sparknas.jobs.supernet;

import io.sparknas.jobs.NativeHeap;
import io.sparknas.search.strategy.TrainingStrategy;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;

/** supernet-train's {@code train_metrics} rows (layout {@code SupernetTrainOutputs.METRICS_SCHEMA}) and the epoch's log line from them. */
final class TrainMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(TrainMetrics.class);

    private TrainMetrics() {
    }

    /** One round's row. */
    static Row row(int e, int r, RoundResult rr, double lr, double wall, boolean arch, TrainingStrategy.EpochPlan plan) {
        return RowFactory.create(e + 1, r + 1, rr.steps(), rr.images(), rr.lossSum() / rr.steps(), (double) rr.correct() / rr.images(),
                lr, wall, rr.images() / wall, rr.computeSeconds(), Math.max(0, 1 - rr.computeSeconds() / wall),
                arch ? "architecture" : "weights", plan.classes().length, Arrays.stream(rr.classImages()).boxed().toList(),
                rr.rowsRead());
    }

    /** The epoch's log line, from its rounds' metrics (also those done before a resume). */
    static void logEpoch(int e, int epochs, String label, List<Row> metrics, double etaSeconds) {
        double loss = 0;
        long steps = 0;
        long correct = 0;
        long images = 0;
        double wall = 0;
        double compute = 0;
        for (Row m : metrics) {
            if (m.getInt(0) == e + 1 && m.getString(11).equals("weights")) {
                long st = m.getLong(2);
                long im = m.getLong(3);
                loss += m.getDouble(4) * st;
                steps += st;
                correct += Math.round(m.getDouble(5) * im);
                images += im;
                wall += m.getDouble(7);
                compute += m.getDouble(9);
            }
        }
        LOG.info("supernet-train: epoch {}/{} ({}): loss {}, train accuracy {}, {} images/s, {}% of the weight rounds outside task compute, "
                        + "driver resident {} GB, ETA {} s",
                e + 1, epochs, label, String.format("%.4f", loss / steps), String.format("%.3f", (double) correct / images),
                String.format("%.1f", images / wall), String.format("%.1f", 100 * Math.max(0, 1 - compute / wall)),
                String.format("%.2f", NativeHeap.residentBytes() / 1e9), String.format("%.0f", etaSeconds));
    }
}
