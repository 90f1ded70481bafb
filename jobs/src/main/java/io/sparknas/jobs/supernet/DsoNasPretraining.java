package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.IngestOutputs;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCheckpoints;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.supernet.net.SupernetState;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * DSO-NAS's pre-training (Zhang et al., Algorithm 1 line 3: weights trained on D_w with every lambda = 1) kept for other runs.
 * A DSO-NAS supernet-train keeps its weights at the end of pre-training in {@code _checkpoint-pretrained/} with a fingerprint
 * of everything pre-training depends on; a run with {@code nas.dsonas.pretrained-run} starts its search from them. Nothing
 * in pre-training reads gamma, the budget or the lambda optimiser's settings (lambda is 1 throughout and no lambda step is
 * taken), so a run with another gamma that starts there trains exactly as if it had pre-trained itself: same seed-derived
 * batches and paths, same learning-rate schedule (it spans pre-training and the search, so the search epochs must match).
 */
final class DsoNasPretraining {

    private static final Logger LOG = LoggerFactory.getLogger(DsoNasPretraining.class);

    /** The kept checkpoint directory in the stage directory. */
    static final String DIR = "_checkpoint-pretrained";
    /** Property of the committed stage: the fingerprint of its pre-training. */
    static final String FINGERPRINT = "pretrained_fingerprint";
    /** Property: the run whose pre-training this run's search started from ("" when it pre-trained itself). */
    static final String FROM = "pretrained_from";

    /** The config pre-training depends on: not the search's keys (sparsity, budget, learning-rate, momentum, clipping, ...). */
    static final List<String> PATHS = List.of("nas.space", "nas.supernet", "nas.run.method", "nas.dsonas.weight-share",
            "nas.dsonas.pretrain-epochs", "nas.dsonas.search-epochs", "nas.dsonas.fixed-batchnorm-scale");

    private DsoNasPretraining() {
    }

    /** What a run's pre-training is a function of: {@link #PATHS} and the ingest it trains on. */
    static String fingerprint(Config config, String ingestFingerprint) {
        return NasConfig.sha256(NasConfig.hash(config, PATHS) + " " + ingestFingerprint);
    }

    /** Another run's pre-training, as this run's input. */
    record Source(String runId, StageRecord.Input input, SupernetCheckpoint checkpoint) {
    }

    /**
     * The pre-training of run {@code nas.dsonas.pretrained-run}, checked against this run's: an error naming the keys that
     * differ (or the ingest) when it is not the pre-training this run would do.
     */
    static Optional<Source> source(SupernetSettings s, SparkSession spark, String ingestFingerprint) {
        String other = s.dsonasPretrainedRun();
        if (other.isEmpty()) {
            return Optional.empty();
        }
        String key = "nas.dsonas.pretrained-run = \"" + other + "\"";
        if (other.equals(s.run().runId())) {
            throw new InputDataException(key + " names this run: give the id of another DSO-NAS run under the same nas.run.root, or \"\".");
        }
        if (s.method().pretrainEpochs() == 0) {
            throw new InputDataException(key + " with nas.dsonas.pretrain-epochs = 0: there is no pre-training to take; set it to the "
                    + "other run's pre-training epochs or drop nas.dsonas.pretrained-run.");
        }
        RunStore store;
        StageRecord record;
        String theirs;
        List<String> chain = new ArrayList<>();
        while (true) {
            String run = other;
            chain.add(run);
            store = new RunStore(s.run().root(), run, spark.sparkContext().hadoopConfiguration());
            RunStore at = store;
            record = store.committed(SupernetTrainOutputs.STAGE).orElseThrow(() -> new InputDataException(key + ": run " + run
                    + " has no committed supernet-train at " + at.stageDir(SupernetTrainOutputs.STAGE) + ": run that DSO-NAS run's supernet-train first."));
            theirs = record.properties().get(FINGERPRINT);
            String from = record.properties().getOrDefault(FROM, "");
            if (!from.isEmpty() && !from.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
                throw new InputDataException(key + ": run " + run + "'s " + at.stageDir(SupernetTrainOutputs.STAGE) + "/_stage.json says "
                        + FROM + " = \"" + from + "\", which is not a run id (letters, digits, '.', '_', '-'): the file was edited or "
                        + "is not spark-nas's; re-run that run's supernet-train with --force.");
            }
            if (theirs != null || from.isEmpty()) {
                break;
            }
            // that run searched from a third run's pre-training and kept none of its own: take the pre-training it took
            if (chain.contains(from) || from.equals(s.run().runId())) {
                throw new InputDataException(key + ": the runs' nas.dsonas.pretrained-run form a cycle (" + String.join(" -> ", chain)
                        + " -> " + from + "): give the id of the run that pre-trained.");
            }
            LOG.info("supernet-train: run {} searched from the pre-training of run {} and kept none of its own; taking run {}'s", run, from, from);
            other = from;
        }
        if (theirs == null) {
            throw new InputDataException(key + ": the supernet-train of run " + other + " (" + store.stageDir(SupernetTrainOutputs.STAGE)
                    + ") kept no pre-training (method " + record.method() + "; a DSO-NAS run with nas.dsonas.pretrain-epochs > 0 keeps one).");
        }
        String ours = fingerprint(s.run().config(), ingestFingerprint);
        if (!theirs.equals(ours)) {
            throw new InputDataException(key + ": run " + other + " pre-trained with another configuration or data: " + differences(s.run().config(),
                    record, ingestFingerprint) + ". Make them equal, or drop nas.dsonas.pretrained-run to pre-train here.");
        }
        String keptDir = store.stageDir(SupernetTrainOutputs.STAGE) + "/" + DIR;
        StageCheckpoints kept = new StageCheckpoints(store, SupernetTrainOutputs.STAGE, DIR);
        SupernetCheckpoint cp = SupernetCheckpoint.latest(spark, kept).orElseThrow(() -> new InputDataException(key + ": "
                + keptDir + " holds no complete checkpoint: re-run that run's supernet-train with --force."));
        return Optional.of(new Source(other, new StageRecord.Input(other + "/" + SupernetTrainOutputs.STAGE + "/" + DIR, keptDir, theirs), cp));
    }

    /** The keys of {@link #PATHS} whose values differ between this config and the other run's record, or the ingest. */
    private static String differences(Config ours, StageRecord theirs, String ingestFingerprint) {
        Config recorded = ConfigFactory.parseString(theirs.config().toString()).atPath(NasConfig.ROOT);
        List<String> out = new ArrayList<>();
        for (String p : PATHS) {
            String a = ours.hasPath(p) ? NasConfig.renderJson(ours, p) : "null";
            String b = recorded.hasPath(p) ? NasConfig.renderJson(recorded, p) : "null";
            if (!a.equals(b)) {
                out.add(p + " is " + shorten(b) + " there, " + shorten(a) + " here");
            }
        }
        String theirIngest = theirs.inputs().stream().filter(i -> i.id().equals(IngestOutputs.STAGE))
                .map(StageRecord.Input::hash).findFirst().orElse("");
        if (!theirIngest.equals(ingestFingerprint)) {
            out.add("the ingest differs (fingerprint " + abbreviate(theirIngest) + " there, " + abbreviate(ingestFingerprint) + " here)");
        }
        return out.isEmpty() ? "the recorded configuration differs (another code version?)" : String.join("; ", out);
    }

    private static String shorten(String json) {
        return json.length() <= 200 ? json : json.substring(0, 200) + "...";
    }

    private static String abbreviate(String h) {
        return h.length() <= 12 ? h : h.substring(0, 12);
    }

    /** Keeps the weights, strategy state and rows at the end of pre-training (epoch {@code epoch}, all its rounds done). */
    static void keep(SparkSession spark, StageCheckpoints kept, int epoch, int rounds, SupernetState state, List<Row> metrics,
                     String strategyState, List<Row> archParams) {
        if (kept.latest().isPresent()) {
            return; // kept by an attempt this one resumes
        }
        SupernetCheckpoint.write(spark, kept, 0, epoch, rounds, state, metrics, strategyState, archParams);
    }

    /** The pre-training epochs: {@code nas.dsonas.pretrain-epochs} for DSO-NAS, else none. */
    static int epochs(SupernetSettings s) {
        return s.method().pretrains() ? s.method().pretrainEpochs() : 0;
    }
}
