package io.sparknas.jobs.training;

import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.api.Layer;
import java.util.function.Consumer;
import java.util.Set;
import java.util.IdentityHashMap;
import java.util.Collections;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.NativeHeap;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.artifact.Sample;
import io.sparknas.supernet.backend.OneDnnLayerHelpers;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.ArchitectureGraph;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Random;

/**
 * Trains architectures from scratch with dl4j-spark ({@link SparkComputationGraph}, {@link ParameterAveragingTrainingMaster},
 * Direct RDD training) on the run's train split, read from Parquet by the executors and cached as images, and evaluates them
 * on the test split. Nesterov SGD with a per-epoch cosine learning rate. Worker w always trains shard w of the train split
 * ({@link ImageSplits}); each averaging round is one dl4j-spark fit over {@code workers x averaging-frequency} minibatches
 * made on the workers ({@link #roundImages}, {@link #batches}), augmented from generators seeded by (seed, epoch, worker,
 * round). After every epoch (when {@code epochValImages > 0}) BatchNorm is recalibrated and the model's accuracy on the first
 * val images is logged and recorded.
 *
 * <p>Memory: the networks use DL4J workspaces ({@link ArchitectureGraph#standalone}); {@link NativeHeapTrimHook} and the end of every
 * epoch return freed native memory to the operating system (resident memory per epoch: {@code submit/bench-retrain.sh}).
 */
public final class StandaloneTrainer implements AutoCloseable {

    /**
     * Per model and epoch: the training loss (dl4j-spark's score), the val accuracy after the epoch (null without per-epoch
     * evaluation), learning rate, training wall time and throughput.
     */
    public static final StructType METRICS_SCHEMA = new StructType()
            .add("model", DataTypes.IntegerType, false).add("epoch", DataTypes.IntegerType, false)
            .add("loss", DataTypes.DoubleType, false).add("val_accuracy", DataTypes.DoubleType, true)
            .add("learning_rate", DataTypes.DoubleType, false)
            .add("seconds", DataTypes.DoubleType, false).add("images_per_second", DataTypes.DoubleType, false);

    private static final Logger LOG = LoggerFactory.getLogger(StandaloneTrainer.class);

    /** Training settings shared by retrain and ranking. */
    public record Settings(long seed, int epochs, int batchSize, int averagingFrequency, double learningRate, double momentum, double weightDecay,
                    Augmenter augmenter, int workers, int recalibrationBatches, int epochValImages, boolean oneDnnHelpers) {
    }

    /**
     * Where a model's training stands at an averaging-round boundary: the driver's network (parameters, BatchNorm statistics
     * and updater state) after {@code epochsDone} whole epochs and {@code roundsDone} rounds of the next, the metrics rows of
     * the whole epochs, and the training wall time so far. What a checkpoint saves and {@link #train} continues from.
     */
    public record Progress(ComputationGraph network, int epochsDone, int roundsDone, List<Row> metrics, double wallSeconds) {
    }

    /** A trained model, its test evaluation and its per-epoch metrics rows. */
    public record Trained(ComputationGraph network, Evaluation evaluation, double[] perClassAccuracy, List<Row> metrics, double wallSeconds) {
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
    /** Images of the largest worker's shard of train: it sets the averaging rounds per epoch. */
    private final int maxShard;
    private final long valImages;
    /** The train images BatchNorm is recalibrated on (taken once). */
    private List<Sample> recalibrationImages;

    /** @param trainLimit train images used (a seeded class-stratified subset); 0: all */
    public StandaloneTrainer(SparkSession spark, RunStore store, SearchSpace space, Settings s, int trainLimit) {
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
        List<Integer> shards = train.mapPartitions(it -> {
            int n = 0;
            for (; it.hasNext(); it.next()) {
                n++;
            }
            return List.of(n).iterator();
        }).collect();
        this.trainImages = shards.stream().mapToLong(Integer::longValue).sum();
        this.maxShard = shards.stream().mapToInt(Integer::intValue).max().orElse(0);
        this.test = ImageSplits.sharded(spark, store, "test", workers, 0, 0).mapPartitions(it -> SampleBatches.evalBatches(it, res, ch, classes, helpers))
                .persist(StorageLevel.MEMORY_AND_DISK());
        if (s.epochValImages() > 0) {
            this.val = ImageSplits.sharded(spark, store, "val", workers, s.epochValImages(), s.seed()).mapPartitions(it -> SampleBatches.evalBatches(it, res, ch, classes, helpers))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            this.valImages = val.map(d -> (long) d.numExamples()).fold(0L, Long::sum);
            if (valImages == 0) {
                throw new InputDataException("nas.retrain.epoch-val-images = " + s.epochValImages() + " but the run's images "
                        + "have no val split: set nas.ingest.val-per-class > 0 and re-run ingest, or set nas.retrain.epoch-val-images = 0.");
            }
        } else {
            this.val = null;
            this.valImages = 0;
        }
    }

    public int workers() {
        return workers;
    }

    public long trainImages() {
        return trainImages;
    }

    public Trained train(Arch arch, int model, String label) {
        return train(arch, model, label, row -> {
        });
    }

    /** {@link #train} calling {@code onEpoch} with each epoch's metrics row (layout {@link #METRICS_SCHEMA}) as it ends. */
    public Trained train(Arch arch, int model, String label, Consumer<Row> onEpoch) {
        return train(fresh(arch), arch.id(), model, label, onEpoch);
    }

    /** The stand-alone network of {@code arch} with fresh weights initialised from the settings' seed. */
    public ComputationGraph fresh(Arch arch) {
        OptimizerSettings opt = new OptimizerSettings(s.learningRate(), s.momentum(), s.weightDecay(), "cosine", 1, 0, 0);
        return ArchitectureGraph.standalone(space, arch, opt, s.seed());
    }

    /**
     * Trains any initialised network of the run's input shape and classes ({@code description} names it in the log) with the
     * settings' schedule; the learning rate is set per epoch.
     */
    public Trained train(ComputationGraph graph, String description, int model, String label, Consumer<Row> onEpoch) {
        return train(graph, description, model, label, onEpoch, null, p -> {
        });
    }

    /**
     * {@link #train}, continuing from {@code from} when it is not null (its network replaces {@code graph}), and calling
     * {@code atBoundary} after every averaging round but an epoch's last, and after every epoch's end (recalibration, val
     * accuracy and metrics row done; {@code roundsDone == 0}). Continuing from a boundary gives bitwise the network an
     * uninterrupted run has there: each round's data and augmentation depend on (seed, epoch, worker, round) only, the
     * learning rate on the epoch, and dl4j-spark's averaging on the parameters and updater state the progress holds.
     */
    public Trained train(ComputationGraph graph, String description, int model, String label, Consumer<Row> onEpoch,
                         Progress from, Consumer<Progress> atBoundary) {
        long t0 = System.nanoTime() - (from == null ? 0 : (long) (from.wallSeconds() * 1e9));
        if (from != null) {
            graph = from.network();
        }
        int classes = space.classes();
        // Data-set objects hold batch-size images each; they stay in the worker's partition (no repartitioning), and a round's
        // minibatches are not cached: dl4j-spark's count of them recomputes them from the cached images (milliseconds)
        // instead of serialising every minibatch into the block store and back
        ParameterAveragingTrainingMaster tm = new ParameterAveragingTrainingMaster.Builder(workers, s.batchSize()).batchSizePerWorker(s.batchSize())
                .repartionData(Repartition.Never).storageLevel(null)
                .trainingHooks(new NativeHeapTrimHook(s.averagingFrequency()))
                .averagingFrequency(s.averagingFrequency()).workerPrefetchNumBatches(0).saveUpdater(true)
                .rddTrainingApproach(RDDTrainingApproach.Direct).rngSeed(s.seed()).build();
        SparkComputationGraph net = new SparkComputationGraph(jsc, graph, tm);
        LOG.info("{}: {} ({} parameters), {} epochs on {} train images, {} workers x batch {}; DL4J oneDNN helpers on {} of {} layers", label,
                description, graph.numParams(), s.epochs(), trainImages, workers, s.batchSize(), OneDnnLayerHelpers.helpedLayers(graph), graph.getNumLayers());
        List<Row> metrics = new ArrayList<>(from == null ? List.of() : from.metrics());
        if (from != null) {
            LOG.info("{}: resuming after {} of {} epochs and {} averaging rounds of the next", label, from.epochsDone(), s.epochs(), from.roundsDone());
        }
        for (int e = from == null ? 0 : from.epochsDone(); e < s.epochs(); e++) {
            long te = System.nanoTime();
            double lr = s.learningRate() * 0.5 * (1 + Math.cos(Math.PI * e / s.epochs()));
            net.getNetwork().setLearningRate(lr);
            int roundImages = s.batchSize() * s.averagingFrequency();
            int rounds = (maxShard + roundImages - 1) / roundImages;
            int firstRound = from != null && e == from.epochsDone() ? from.roundsDone() : 0;
            for (int r = firstRound; r < rounds; r++) {
                jsc.setJobGroup("retrain-m" + model + "-e" + (e + 1) + "-r" + (r + 1), label + ": epoch " + (e + 1) + "/" + s.epochs() + ", averaging round "
                        + (r + 1) + "/" + rounds, false);
                JavaRDD<MultiDataSet> data = round(e, r);
                net.fitMultiDataSet(data);
                data.unpersist(false);
                if (r < rounds - 1) {
                    atBoundary.accept(new Progress(net.getNetwork(), e, r + 1, List.copyOf(metrics), (System.nanoTime() - t0) / 1e9));
                }
            }
            jsc.setJobGroup("retrain-m" + model + "-e" + (e + 1) + "-eval", label + ": epoch " + (e + 1) + "/" + s.epochs()
                    + ", BatchNorm recalibration and val accuracy", false);
            double sec = (System.nanoTime() - te) / 1e9;
            NativeHeap.collectAndTrim(NativeHeapTrimHook.COLLECTION_INTERVAL_MS);
            double loss = net.getScore();
            Double valAccuracy = null;
            if (val != null) {
                // running statistics are not used by training-mode forward passes, so recalibrating them here changes no weight
                if (s.recalibrationBatches() > 0) {
                    recalibrate(net.getNetwork(), s.recalibrationBatches());
                }
                valAccuracy = net.evaluate(val, null, SampleBatches.EVAL_BATCH).accuracy();
            }
            Row row = RowFactory.create(model, e + 1, loss, valAccuracy, lr, sec, trainImages / sec);
            metrics.add(row);
            onEpoch.accept(row);
            atBoundary.accept(new Progress(net.getNetwork(), e + 1, 0, List.copyOf(metrics), (System.nanoTime() - t0) / 1e9));
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
        jsc.setJobGroup("retrain-m" + model + "-test", label + ": test accuracy", false);
        Evaluation ev = net.evaluate(test, null, SampleBatches.EVAL_BATCH);
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
     * The minibatches of averaging round {@code r} of epoch {@code e}: worker (partition) p shuffles its shard with a generator
     * seeded by (seed, epoch, p) and trains images {@code [r, r + 1) x batch-size x averaging-frequency} of that order, in
     * minibatches made where they are trained (one pair of arrays per minibatch, augmented from a generator seeded by
     * (seed, epoch, p, r)). One dl4j-spark fit per round: its data fit one split, so dl4j-spark neither splits (each of its
     * splits would filter the whole epoch's data again) nor repartitions, and worker p always trains shard p.
     */
    private JavaRDD<MultiDataSet> round(int e, int r) {
        int res = space.resolution();
        int ch = space.inChannels();
        int classes = space.classes();
        Augmenter aug = s.augmenter();
        long seed = s.seed();
        boolean helpers = s.oneDnnHelpers();
        int batch = s.batchSize();
        int roundImages = batch * s.averagingFrequency();
        return train.mapPartitionsWithIndex((p, it) -> {
            List<Sample> shard = new ArrayList<>();
            it.forEachRemaining(shard::add);
            Random rnd = new Random((seed * 1_000_003L + e * 7919L + p) * 31 + r);
            return SampleBatches.batches(SampleBatches.roundImages(shard, seed, e, p, r, roundImages).iterator(), batch, aug, res, ch, classes, rnd, helpers, true);
        }, true);
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
            for (GraphVertex v : g.getVertices()) {
                if (v.hasLayer() && v.getLayer() instanceof BatchNormalization) {
                    INDArray in = acts.get(g.getConfiguration().getVertexInputs().get(v.getVertexName()).get(0));
                    int[] dims = in.rank() == 4 ? new int[]{0, 2, 3} : new int[]{0};
                    meanSum.merge(v.getVertexName(), in.mean(dims), INDArray::addi);
                    varSum.merge(v.getVertexName(), in.var(false, dims), INDArray::addi);
                }
            }
            // feedForward detaches every activation; freed here, not whenever the garbage collector gets to them
            Set<INDArray> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            for (INDArray a : acts.values()) {
                if (seen.add(a) && a.closeable()) {
                    a.close();
                }
            }
            n++;
        }
        for (Map.Entry<String, INDArray> e : meanSum.entrySet()) {
            Layer l = g.getLayer(e.getKey());
            l.getParam("mean").assign(e.getValue().divi(n).reshape(l.getParam("mean").shape()));
            l.getParam("var").assign(varSum.get(e.getKey()).divi(n).reshape(l.getParam("var").shape()));
        }
        LOG.debug("BatchNorm statistics of {} layers recomputed on {} train images", meanSum.size(), first.size());
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
