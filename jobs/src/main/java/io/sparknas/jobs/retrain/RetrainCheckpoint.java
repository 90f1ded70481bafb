package io.sparknas.jobs.retrain;

import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.conf.Configuration;
import io.sparknas.jobs.training.StandaloneTrainer;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCheckpoints;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Retrain's checkpoint ({@link StageCheckpoints}, atomic): the rows of the models finished so far (final_models, confusion,
 * retrain_metrics, and each model's parameter hash), and for the model in training its {@link StandaloneTrainer.Progress}
 * (the network with its updater state as a DL4J model zip, epochs and rounds done, its metrics rows, wall time). Written at
 * every model's end and at the first averaging-round boundary after {@code nas.run.checkpoint-interval}; {@code --resume}
 * continues from the latest. A finished model's zip is kept in {@code _checkpoint/models/} until the stage commits, when
 * that directory becomes the stage's {@code models/}: an attempt's failure removes everything outside {@code _checkpoint}.
 *
 * @param model    the model in training (== the number of finished models)
 * @param progress that model's progress, or null when it has not started
 * @param finals   final_models rows of the finished models
 * @param confusion confusion rows of the finished models
 * @param metrics  retrain_metrics rows of the finished models
 * @param hashes   sha256 of each finished model's parameters
 */
record RetrainCheckpoint(int model, StandaloneTrainer.Progress progress, List<Row> finals, List<Row> confusion, List<Row> metrics,
                         List<String> hashes) {

    static final String MODELS_DIR = "_checkpoint/models";
    private static final String POSITION = "position";
    private static final String NETWORK = "network.zip";
    private static final String ROWS = "rows.bin";

    /** Writes checkpoint {@code n}: rows first, the network, then the position, then the marker. */
    static void write(RunStore store, String dir, long n, RetrainCheckpoint c) {
        StageCheckpoints cps = new StageCheckpoints(store, dir);
        StandaloneTrainer.Progress p = c.progress();
        cps.begin(n);
        try (ObjectOutputStream out = new ObjectOutputStream(cps.create(n, ROWS))) {
            out.writeObject(new ArrayList<>(c.finals()));
            out.writeObject(new ArrayList<>(c.confusion()));
            out.writeObject(new ArrayList<>(c.metrics()));
            out.writeObject(new ArrayList<>(c.hashes()));
            out.writeObject(p == null ? new ArrayList<Row>() : new ArrayList<>(p.metrics()));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write retrain's checkpoint " + n + " at " + store.stageDir(dir) + ": " + e.getMessage(), e);
        }
        if (p != null) {
            try (OutputStream out = cps.create(n, NETWORK)) {
                ModelSerializer.writeModel(p.network(), out, true);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot write retrain's checkpoint " + n + " at " + store.stageDir(dir) + ": " + e.getMessage(), e);
            }
        }
        cps.writeText(n, POSITION, c.model() + (p == null ? "" : " " + p.epochsDone() + " " + p.roundsDone() + " " + p.wallSeconds()));
        cps.complete(n, "model " + c.model() + (p == null ? " not started" : " after " + p.epochsDone() + " epochs and " + p.roundsDone() + " rounds"));
    }

    /** The latest complete checkpoint and its number, if any. */
    @SuppressWarnings("unchecked")
    static Optional<Numbered> latest(RunStore store, String dir) {
        StageCheckpoints cps = new StageCheckpoints(store, dir);
        OptionalLong latest = cps.latest();
        if (latest.isEmpty()) {
            return Optional.empty();
        }
        long n = latest.getAsLong();
        String[] pos = cps.readText(n, POSITION).strip().split(" ");
        List<Row> finals;
        List<Row> confusion;
        List<Row> metrics;
        List<String> hashes;
        List<Row> current;
        try (ObjectInputStream in = new ObjectInputStream(cps.open(n, ROWS))) {
            finals = (List<Row>) in.readObject();
            confusion = (List<Row>) in.readObject();
            metrics = (List<Row>) in.readObject();
            hashes = (List<String>) in.readObject();
            current = (List<Row>) in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("Cannot read retrain's checkpoint " + n + " at " + store.stageDir(dir) + ": " + e.getMessage()
                    + "; re-run retrain with --force", e);
        }
        StandaloneTrainer.Progress progress = null;
        if (pos.length == 4) {
            try (InputStream in = cps.open(n, NETWORK)) {
                ComputationGraph g = ModelSerializer.restoreComputationGraph(in, true);
                progress = new StandaloneTrainer.Progress(g, Integer.parseInt(pos[1]), Integer.parseInt(pos[2]), current, Double.parseDouble(pos[3]));
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read retrain's checkpoint " + n + " at " + store.stageDir(dir) + ": " + e.getMessage(), e);
            }
        }
        return Optional.of(new Numbered(n, new RetrainCheckpoint(Integer.parseInt(pos[0]), progress, finals, confusion, metrics, hashes)));
    }

    /** A checkpoint and its number. */
    record Numbered(long number, RetrainCheckpoint checkpoint) {
    }

    /** Where finished model {@code m}'s zip is kept until the stage commits. */
    static Path modelFile(RunStore store, String dir, int m) {
        return new Path(new Path(store.stageDir(dir), MODELS_DIR), "model-" + m + ".zip");
    }

    /**
     * Before the commit: copies the kept model zips to the stage's {@code models/} (replacing what an interrupted attempt
     * copied). A copy, not a move, so a failure before the commit leaves the checkpoint whole for {@code --resume}.
     */
    static void publishModels(RunStore store, String dir, String modelsUri, Configuration conf) {
        FileSystem fs = store.fileSystem();
        Path from = new Path(store.stageDir(dir), MODELS_DIR);
        Path to = new Path(modelsUri);
        try {
            if (fs.exists(to)) {
                fs.delete(to, true);
            }
            if (!fs.exists(from)) {
                throw new IllegalStateException("retrain's model files are missing at " + from + ": re-run retrain with --force");
            }
            if (!FileUtil.copy(fs, from, fs, to, false, conf)) {
                throw new IOException("copy returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot copy " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }
}
