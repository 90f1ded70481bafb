package io.sparknas.jobs.retrain;

import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.NativeHeap;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.supernet.Sample;
import io.sparknas.supernet.backend.OneDnnLayerHelpers;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Random;

/**
 * Trains architectures from scratch with dl4j-spark ({@link SparkComputationGraph}, {@link ParameterAveragingTrainingMaster},
 * Direct RDD training) on the run's train split, read from Parquet by the executors and cached, and evaluates them on the
 * test split. Nesterov SGD with a per-epoch cosine learning rate; augmentation per epoch from a seeded generator per partition.
 * After every epoch (when {@code epochValImages > 0}) BatchNorm is recalibrated and the model's accuracy on the first val
 * images is logged and recorded.
 */
final class StandaloneTrainer implements AutoCloseable {

    /**
     * Per model and epoch: the training loss (dl4j-spark's score), the val accuracy after the epoch (null without per-epoch
     * evaluation), learning rate, training wall time and throughput.
     */
    static final StructType METRICS_SCHEMA = new StructType()
            .add("model", DataTypes.IntegerType, false).add("epoch", DataTypes.IntegerType, false)
            .add("loss", DataTypes.DoubleType, false).add("val_accuracy", DataTypes.DoubleType, true)
            .add("learning_rate", DataTypes.DoubleType, false)
            .add("seconds", DataTypes.DoubleType, false).add("images_per_second", DataTypes.DoubleType, false);

    private static final Logger LOG = LoggerFactory.getLogger(StandaloneTrainer.class);

    /** Training settings shared by retrain and ranking. */
    record Settings(long seed, int epochs, int batchSize, int averagingFrequency, double learningRate, double momentum, double weightDecay,
                    Augmenter augmenter, int workers, int recalibrationBatches, int epochValImages, boolean oneDnnHelpers) {
    }

    /** A trained model, its test evaluation and its per-epoch metrics rows. */
    record Trained(ComputationGraph network, Evaluation evaluation, double[] perClassAccuracy, List<Row> metrics, double wallSeconds) {
    }

    private final JavaSparkContext jsc;
    private final SearchSpace space;
    private final Settings s;
    private final int workers;
    private final JavaRDD<Sample> train;
    private final JavaRDD<DataSet> test;
    /** The first {@code epochValImages} val images, or null without per-epoch evaluation. */
    private final JavaRDD<DataSet> val;
    private final long trainImages;
    private final long valImages;
    /** The train images BatchNorm is recalibrated on (taken once). */
    private List<Sample> recalibrationImages;

    /** @param trainLimit train images used (a seeded class-stratified subset); 0: all */
    StandaloneTrainer(SparkSession spark, RunStore store, SearchSpace space, Settings s, int trainLimit) {
        this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.space = space;
        this.s = s;
        this.workers = s.workers();
        int res = space.resolution();
        int ch = space.inChannels();
        int classes = space.classes();
        boolean helpers = s.oneDnnHelpers();
        if (helpers) {
            OneDnnLayerHelpers.enable();
        }
        this.train = ImageSplits.sharded(spark, store, "train", workers, trainLimit, s.seed()).persist(StorageLevel.MEMORY_AND_DISK());
        this.trainImages = train.count();
        this.test = ImageSplits.sharded(spark, store, "test", workers, 0, 0).map(x -> dataSet(x, null, res, ch, classes, null, helpers))
                .persist(StorageLevel.MEMORY_AND_DISK());
        if (s.epochValImages() > 0) {
            this.val = ImageSplits.sharded(spark, store, "val", workers, s.epochValImages(), s.seed()).map(x -> dataSet(x, null, res, ch, classes, null, helpers))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            this.valImages = val.count();
            if (valImages == 0) {
                throw new io.sparknas.jobs.InputDataException("nas.retrain.epoch-val-images = " + s.epochValImages() + " but the run's images "
                        + "have no val split: set nas.ingest.val-per-class > 0 and re-run ingest, or set nas.retrain.epoch-val-images = 0.");
            }
        } else {
            this.val = null;
            this.valImages = 0;
        }
    }

    int workers() {
        return workers;
    }

    long trainImages() {
        return trainImages;
    }

    Trained train(Arch arch, int model, String label) {
        long t0 = System.nanoTime();
        int res = space.resolution();
        int ch = space.inChannels();
        int classes = space.classes();
        OptimizerSettings opt = new OptimizerSettings(s.learningRate(), s.momentum(), s.weightDecay(), "cosine", 1, 0, 0);
        ComputationGraph graph = Supernet.standalone(space, arch, opt, s.seed());
        ParameterAveragingTrainingMaster tm = new ParameterAveragingTrainingMaster.Builder(workers, 1).batchSizePerWorker(s.batchSize())
                .averagingFrequency(s.averagingFrequency()).workerPrefetchNumBatches(0).saveUpdater(true)
                .rddTrainingApproach(RDDTrainingApproach.Direct).rngSeed(s.seed()).build();
        SparkComputationGraph net = new SparkComputationGraph(jsc, graph, tm);
        LOG.info("{}: {} ({} parameters), {} epochs on {} train images, {} workers x batch {}; DL4J oneDNN helpers on {} of {} layers", label,
                arch.id(), graph.numParams(), s.epochs(), trainImages, workers, s.batchSize(), OneDnnLayerHelpers.helpedLayers(graph), graph.getNumLayers());
        List<Row> metrics = new ArrayList<>();
        for (int e = 0; e < s.epochs(); e++) {
            long te = System.nanoTime();
            double lr = s.learningRate() * 0.5 * (1 + Math.cos(Math.PI * e / s.epochs()));
            net.getNetwork().setLearningRate(lr);
            int epoch = e;
            Augmenter aug = s.augmenter();
            long seed = s.seed();
            boolean helpers = s.oneDnnHelpers();
            JavaRDD<DataSet> data = train.mapPartitionsWithIndex((p, it) -> {
                Random rnd = new Random(seed * 1_000_003L + epoch * 7919L + p);
                List<DataSet> out = new ArrayList<>();
                it.forEachRemaining(x -> out.add(dataSet(x, aug, res, ch, classes, rnd, helpers)));
                java.util.Collections.shuffle(out, rnd);
                return out.iterator();
            }, true);
            net.fit(data);
            double sec = (System.nanoTime() - te) / 1e9;
            double loss = net.getScore();
            Double valAccuracy = null;
            if (val != null) {
                // running statistics are not used by training-mode forward passes, so recalibrating them here changes no weight
                if (s.recalibrationBatches() > 0) {
                    recalibrate(net.getNetwork(), s.recalibrationBatches());
                }
                valAccuracy = net.evaluate(val).accuracy();
            }
            metrics.add(RowFactory.create(model, e + 1, loss, valAccuracy, lr, sec, trainImages / sec));
            double elapsed = (System.nanoTime() - t0) / 1e9;
            LOG.info("{} epoch {}/{}: loss {}, {}learning rate {}, {} images/s, driver resident {} GB, ETA {} s", label, e + 1, s.epochs(),
                    String.format("%.4f", loss),
                    valAccuracy == null ? "" : "val accuracy " + String.format("%.4f", valAccuracy) + " (" + valImages + " images), ",
                    String.format("%.4f", lr), String.format("%.1f", trainImages / sec), String.format("%.2f", NativeHeap.residentBytes() / 1e9),
                    String.format("%.0f", elapsed / (e + 1) * (s.epochs() - e - 1)));
        }
        if (s.recalibrationBatches() > 0 && val == null) {
            recalibrate(net.getNetwork(), s.recalibrationBatches());
        }
        Evaluation ev = net.evaluate(test);
        double[] perClass = new double[classes];
        for (int k = 0; k < classes; k++) {
            int n = 0;
            for (int p = 0; p < classes; p++) {
                n += ev.getConfusionMatrix().getCount(k, p);
            }
            perClass[k] = n == 0 ? Double.NaN : (double) ev.getConfusionMatrix().getCount(k, k) / n;
        }
        return new Trained(net.getNetwork(), ev, perClass, metrics, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Recomputes every BatchNorm layer's running mean and variance as the average batch statistics of its input over
     * {@code batches} training-mode forward passes on the first train images (SPOS-style recalibration). Weights do not
     * change. Measured on the tiny preset: after 2 epochs the running averages left a model at 0.16 test accuracy.
     */
    private void recalibrate(ComputationGraph g, int batches) {
        if (recalibrationImages == null) {
            recalibrationImages = train.take(batches * s.batchSize());
        }
        List<Sample> first = recalibrationImages;
        Map<String, INDArray> meanSum = new HashMap<>();
        Map<String, INDArray> varSum = new HashMap<>();
        int n = 0;
        for (int b = 0; b * s.batchSize() < first.size(); b++) {
            List<byte[]> px = new ArrayList<>();
            for (Sample x : first.subList(b * s.batchSize(), Math.min(first.size(), (b + 1) * s.batchSize()))) {
                px.add(x.pixels());
            }
            Map<String, INDArray> acts = g.feedForward(Supernet.toBatch(px, space.resolution(), space.resolution(), space.inChannels()), true);
            for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : g.getVertices()) {
                if (v.hasLayer() && v.getLayer() instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization) {
                    INDArray in = acts.get(g.getConfiguration().getVertexInputs().get(v.getVertexName()).get(0));
                    int[] dims = in.rank() == 4 ? new int[]{0, 2, 3} : new int[]{0};
                    meanSum.merge(v.getVertexName(), in.mean(dims), INDArray::addi);
                    varSum.merge(v.getVertexName(), in.var(false, dims), INDArray::addi);
                }
            }
            n++;
        }
        for (Map.Entry<String, INDArray> e : meanSum.entrySet()) {
            org.deeplearning4j.nn.api.Layer l = g.getLayer(e.getKey());
            l.getParam("mean").assign(e.getValue().divi(n).reshape(l.getParam("mean").shape()));
            l.getParam("var").assign(varSum.get(e.getKey()).divi(n).reshape(l.getParam("var").shape()));
        }
        LOG.debug("BatchNorm statistics of {} layers recomputed on {} train images", meanSum.size(), first.size());
    }

    /**
     * One image as a DataSet of one example (features scaled to [0, 1] as the supernet's, one-hot label), augmented when asked.
     * Runs on the executors before dl4j-spark builds its worker networks there, so it also switches DL4J's oneDNN helpers on
     * in that JVM when asked ({@link OneDnnLayerHelpers#enable()}: a system property, read when a layer is created).
     */
    static DataSet dataSet(Sample x, Augmenter aug, int res, int ch, int classes, Random rnd, boolean oneDnnHelpers) {
        if (oneDnnHelpers) {
            OneDnnLayerHelpers.enable();
        }
        byte[] px = aug == null ? x.pixels() : aug.apply(x.pixels(), res, res, ch, rnd);
        INDArray f = Supernet.toBatch(List.of(px), res, res, ch);
        INDArray l = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, classes);
        l.putScalar(0, x.label(), 1f);
        return new DataSet(f, l);
    }

    @Override
    public void close() {
        train.unpersist();
        test.unpersist();
        if (val != null) {
            val.unpersist();
        }
    }
}
