package io.sparknas.jobs.easiness;

import io.sparknas.supernet.net.Supernet;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Executor side of the easiness stage: a trained reference network (configuration and parameters broadcast) scores the
 * images of its partition in batches: per image the entropy of the softmax output, {@code -sum_k P_k ln P_k} (DA-NAS Eq. 1-2,
 * natural logarithm, so in [0, ln C]) and whether the top class is the label. Rows: id, class_index, network, entropy, correct.
 */
final class EntropyScorer implements FlatMapFunction<Iterator<Row>, Row> {

    private static final long serialVersionUID = 1L;
    static final int BATCH = 250;

    private final String network;
    private final String configurationJson;
    private final Broadcast<float[]> params;
    private final int resolution;
    private final int channels;

    EntropyScorer(String network, String configurationJson, Broadcast<float[]> params, int resolution, int channels) {
        this.network = network;
        this.configurationJson = configurationJson;
        this.params = params;
        this.resolution = resolution;
        this.channels = channels;
    }

    /** Entropy of a probability vector in nats (0 ln 0 = 0). */
    static double entropy(float[] p) {
        double h = 0;
        for (float v : p) {
            if (v > 0) {
                h -= v * Math.log(v);
            }
        }
        return h;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        ComputationGraph net = new ComputationGraph(ComputationGraphConfiguration.fromJson(configurationJson));
        net.init(Nd4j.create(params.value()).reshape(1, params.value().length), false);
        List<Row> out = new ArrayList<>();
        List<Row> batch = new ArrayList<>(BATCH);
        while (rows.hasNext()) {
            batch.add(rows.next());
            if (batch.size() == BATCH || !rows.hasNext()) {
                List<byte[]> px = new ArrayList<>(batch.size());
                for (Row r : batch) {
                    px.add((byte[]) r.get(2));
                }
                INDArray probs = net.outputSingle(false, Supernet.toBatch(px, resolution, resolution, channels));
                float[][] p = probs.toFloatMatrix();
                for (int i = 0; i < batch.size(); i++) {
                    int label = batch.get(i).getInt(1);
                    int best = 0;
                    for (int k = 1; k < p[i].length; k++) {
                        if (p[i][k] > p[i][best]) {
                            best = k;
                        }
                    }
                    out.add(RowFactory.create(batch.get(i).getString(0), label, network, entropy(p[i]), best == label));
                }
                probs.close();
                batch.clear();
            }
        }
        return out.iterator();
    }
}
