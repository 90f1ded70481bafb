package io.sparknas.jobs.easiness;

import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.conf.Configuration;
import java.util.Arrays;
import java.io.InputStream;
import io.sparknas.jobs.artifact.EasinessOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.training.StandaloneTrainer;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.search.easiness.ClassEasiness;
import io.sparknas.supernet.reference.ReferenceNetworks;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Stage easiness (DA-NAS section 4, Eq. 1-3; Observation 3): trains reference networks of different families on the train
 * split with dl4j-spark ({@link StandaloneTrainer}: {@code SparkComputationGraph} + {@code ParameterAveragingTrainingMaster}),
 * or loads trained DL4J model zips; scores every train image on the executors by the entropy of each network's softmax
 * ({@link EntropyScorer}); builds per network and class the entropy histogram, and ranks classes by the mean of the networks'
 * histograms ({@link ClassEasiness}: mean entropy of the mean histogram, lower = easier).
 *
 * <p>Outputs: {@code sample_entropy} (id, class_index, network, entropy, correct), {@code class_easiness} (class_index, score,
 * rank, the mean histogram, each network's histogram and score), {@code network_agreement} (per pair of networks, Spearman's
 * rho and Kendall's tau of their class scores: Observation 3), {@code network_accuracy} (per network and class, test accuracy
 * and mean train entropy). Properties: the mean pairwise Spearman rho, and Spearman's rho between easiness (minus the score)
 * and the networks' mean per-class test accuracy.
 */
public final class EasinessStage {

    private static final Logger LOG = LoggerFactory.getLogger(EasinessStage.class);

    private EasinessStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(EasinessOutputs.STAGE, args, Set.of(), false, EasinessSettings::from, EasinessStage::run);
    }

    public static EasinessResult run(EasinessSettings s, SparkSession spark) throws Exception {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.run().runId(), s.space());
        SearchSpace space = rs.space();
        StageCommit commit = StageCommit.begin(store, s.run(), EasinessOutputs.STAGE, 0, NasConfig.hash(s.run().config(), EasinessSettings.SECTIONS), s.seed(),
                List.of(rs.input(store)));
        if (commit.skipped()) {
            return EasinessResult.read(store, commit.existing(), true);
        }
        long t0 = System.nanoTime();
        Map<String, ComputationGraph> networks = networks(s, spark, store, space);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int res = space.resolution();
        int ch = space.inChannels();
        int classes = space.classes();
        Dataset<Row> scored = null;
        Dataset<Row> tested = null;
        for (Map.Entry<String, ComputationGraph> n : networks.entrySet()) {
            Broadcast<float[]> params = jsc.broadcast(n.getValue().params().toFloatVector());
            String json = n.getValue().getConfiguration().toJson();
            jsc.setJobGroup("easiness", "easiness: entropy of " + n.getKey() + " on every train and test image", false);
            Dataset<Row> train = spark.createDataFrame(ImageSplits.rows(spark, store, "train").select("id", "class_index", "pixels").javaRDD()
                    .mapPartitions(new EntropyScorer(n.getKey(), json, params, res, ch)), EasinessOutputs.SAMPLE_SCHEMA);
            Dataset<Row> test = spark.createDataFrame(ImageSplits.rows(spark, store, "test").select("id", "class_index", "pixels").javaRDD()
                    .mapPartitions(new EntropyScorer(n.getKey(), json, params, res, ch)), EasinessOutputs.SAMPLE_SCHEMA);
            scored = scored == null ? train : scored.union(train);
            tested = tested == null ? test : tested.union(test);
        }
        scored.write().parquet(commit.tableUri(EasinessOutputs.SAMPLE_ENTROPY));
        Dataset<Row> samples = spark.read().parquet(commit.tableUri(EasinessOutputs.SAMPLE_ENTROPY));
        long sampleRows = samples.count();
        commit.addTable(EasinessOutputs.SAMPLE_ENTROPY, sampleRows, EasinessOutputs.SCHEMA_VERSION, List.of());

        List<String> names = new ArrayList<>(networks.keySet());
        double maxEntropy = Math.log(classes);
        int bins = s.bins();
        long[][][] counts = new long[names.size()][classes][bins];
        Column binExpr = new Column(maxEntropy, bins);
        for (Row r : samples.withColumn("bin", binExpr.expr()).groupBy("network", "class_index", "bin").count().collectAsList()) {
            counts[names.indexOf(r.getString(0))][r.getInt(1)][r.getInt(2)] = r.getLong(3);
        }
        ClassEasiness e;
        try {
            e = ClassEasiness.of(counts, maxEntropy);
        } catch (IllegalArgumentException ex) {
            throw new InputDataException("easiness: " + ex.getMessage() + ": every class needs train images (see ingest_classes).");
        }
        List<Row> classRows = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            Map<String, List<Double>> hist = new LinkedHashMap<>();
            Map<String, Double> scores = new LinkedHashMap<>();
            for (int n = 0; n < names.size(); n++) {
                hist.put(names.get(n), boxed(e.networkHistograms()[n][c]));
                scores.put(names.get(n), e.networkScore()[n][c]);
            }
            classRows.add(RowFactory.create(c, e.score()[c], e.rank()[c], boxed(e.meanHistogram()[c]), hist, scores));
        }
        spark.createDataFrame(classRows, EasinessOutputs.CLASS_SCHEMA).coalesce(1).write().parquet(commit.tableUri(EasinessOutputs.CLASS_EASINESS));
        commit.addTable(EasinessOutputs.CLASS_EASINESS, classes, EasinessOutputs.SCHEMA_VERSION, List.of());

        List<Row> agreement = new ArrayList<>();
        double rhoSum = 0;
        for (int a = 0; a < names.size(); a++) {
            for (int b = a + 1; b < names.size(); b++) {
                double rho = ClassEasiness.spearman(e.networkScore()[a], e.networkScore()[b]);
                rhoSum += rho;
                agreement.add(RowFactory.create(names.get(a), names.get(b), rho, ClassEasiness.kendall(e.networkScore()[a], e.networkScore()[b])));
            }
        }
        spark.createDataFrame(agreement, EasinessOutputs.AGREEMENT_SCHEMA).coalesce(1).write().parquet(commit.tableUri(EasinessOutputs.NETWORK_AGREEMENT));
        commit.addTable(EasinessOutputs.NETWORK_AGREEMENT, agreement.size(), EasinessOutputs.SCHEMA_VERSION, List.of());

        double[][] accuracy = new double[names.size()][classes];
        long[][] testImages = new long[names.size()][classes];
        for (Row r : tested.groupBy("network", "class_index").agg(functions.expr("avg(cast(correct as double))"), functions.count("*")).collectAsList()) {
            accuracy[names.indexOf(r.getString(0))][r.getInt(1)] = r.getDouble(2);
            testImages[names.indexOf(r.getString(0))][r.getInt(1)] = r.getLong(3);
        }
        List<Row> accRows = new ArrayList<>();
        double[] meanAccuracy = new double[classes];
        for (int n = 0; n < names.size(); n++) {
            for (int c = 0; c < classes; c++) {
                accRows.add(RowFactory.create(names.get(n), c, accuracy[n][c], testImages[n][c], e.networkScore()[n][c]));
                meanAccuracy[c] += accuracy[n][c] / names.size();
            }
        }
        spark.createDataFrame(accRows, EasinessOutputs.ACCURACY_SCHEMA).coalesce(1).write().parquet(commit.tableUri(EasinessOutputs.NETWORK_ACCURACY));
        commit.addTable(EasinessOutputs.NETWORK_ACCURACY, accRows.size(), EasinessOutputs.SCHEMA_VERSION, List.of());

        double[] easiness = new double[classes];
        for (int c = 0; c < classes; c++) {
            easiness[c] = -e.score()[c];
        }
        double rhoAccuracy = ClassEasiness.spearman(easiness, meanAccuracy);
        double meanRho = agreement.isEmpty() ? Double.NaN : rhoSum / agreement.size();
        commit.putProperty("networks", String.join(",", names));
        commit.putProperty("easiest_first", Arrays.toString(e.easiestFirst()));
        commit.putProperty("mean_pairwise_spearman", fmt(meanRho));
        commit.putProperty("easiness_accuracy_spearman", fmt(rhoAccuracy));
        commit.putProperty("seconds", fmt((System.nanoTime() - t0) / 1e9));
        LOG.info("easiness: classes easiest first {}; networks' pairwise Spearman rho {} (mean {}); Spearman rho of easiness and the networks' "
                        + "mean per-class test accuracy {}", Arrays.toString(e.easiestFirst()),
                agreement.stream().map(r -> r.getString(0) + "/" + r.getString(1) + " " + fmt(r.getDouble(2))).toList(), fmt(meanRho), fmt(rhoAccuracy));
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        return EasinessResult.read(store, record, false);
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static List<Double> boxed(double[] v) {
        return Arrays.stream(v).boxed().toList();
    }

    /** The histogram bin of column {@code entropy}: floor(entropy / ln C x bins), the top edge in the last bin. */
    private record Column(double maxEntropy, int bins) {
        org.apache.spark.sql.Column expr() {
            return functions.least(functions.lit(bins - 1), functions.greatest(functions.lit(0),
                    functions.floor(functions.col("entropy").divide(maxEntropy).multiply(bins)).cast("int")));
        }
    }

    /**
     * A given model scores an image by the entropy of its softmax over the run's classes (DA-NAS section 4.1): its one
     * output must be as wide as the run has classes, else the entropies and per-class accuracies would be over other classes.
     *
     * @throws InputDataException naming the zip, its output width and the run's class count
     */
    static void checkOutputWidth(String zip, ComputationGraph g, int classes) {
        String[] outputs = g.getConfiguration().getNetworkOutputs().toArray(String[]::new);
        if (outputs.length != 1) {
            throw new InputDataException("nas.easiness.model-zips: " + zip + " has " + outputs.length + " outputs " + Arrays.toString(outputs)
                    + "; give a classifier with one softmax output over the run's " + classes + " classes.");
        }
        long width = g.getLayer(outputs[0]).conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer f ? f.getNOut() : -1;
        if (width != classes) {
            throw new InputDataException("nas.easiness.model-zips: " + zip + "'s output " + outputs[0] + (width < 0 ? " has no known width" : " is " + width + " wide")
                    + ", but the run has " + classes + " classes (the ingest's classes table): give models trained on this data set's "
                    + classes + " classes, or leave nas.easiness.model-zips empty to train nas.easiness.networks here.");
        }
    }

    /** The configured reference networks, trained here in config order, or the given model zips (named by file). */
    private static Map<String, ComputationGraph> networks(EasinessSettings s, SparkSession spark, RunStore store, SearchSpace space) throws Exception {
        Map<String, ComputationGraph> out = new LinkedHashMap<>();
        if (!s.modelZips().isEmpty()) {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            for (String zip : s.modelZips()) {
                Path p = new Path(zip);
                FileSystem fs = p.getFileSystem(conf);
                if (!fs.exists(p)) {
                    throw new InputDataException("nas.easiness.model-zips: " + zip + " does not exist: give DL4J ComputationGraph zips "
                            + "(ModelSerializer.writeModel), local paths or s3a:// URIs.");
                }
                ComputationGraph g;
                try (InputStream in = fs.open(p)) {
                    g = ModelSerializer.restoreComputationGraph(in, false);
                }
                checkOutputWidth(zip, g, space.classes());
                String name = p.getName().replaceAll("\\.zip$", "");
                out.put(out.containsKey(name) ? name + "-" + out.size() : name, g);
                LOG.info("easiness: loaded {} ({} parameters) from {}", name, g.numParams(), zip);
            }
            return out;
        }
        try (StandaloneTrainer trainer = new StandaloneTrainer(spark, store, space, s.trainer(), s.trainImages())) {
            for (int i = 0; i < s.networks().size(); i++) {
                String family = s.networks().get(i);
                ComputationGraph g = ReferenceNetworks.build(family, space.resolution(), space.inChannels(), space.classes(), s.width(), s.learningRate(),
                        s.momentum(), s.weightDecay(), s.seed() + i);
                StandaloneTrainer.Trained t = trainer.train(g, family, i, "easiness: network " + (i + 1) + "/" + s.networks().size() + " (" + family + ")",
                        row -> {
                        });
                LOG.info("easiness: {} trained in {} s: test accuracy {}", family, String.format("%.0f", t.wallSeconds()),
                        String.format("%.4f", t.evaluation().accuracy()));
                out.put(family, t.network());
            }
        }
        return out;
    }
}
