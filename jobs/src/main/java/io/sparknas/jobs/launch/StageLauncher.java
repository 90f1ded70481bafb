package io.sparknas.jobs.launch;

import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.InputDataException;
import java.util.function.Function;
import java.util.Map;
import io.sparknas.supernet.backend.UnsupportedBackendException;
import com.typesafe.config.Config;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageConflictException;
import io.sparknas.supernet.backend.BackendReport;
import io.sparknas.supernet.backend.NativeBackend;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Set;

/**
 * The shared start-up of every stage's {@code main}: parse the command line, load and validate the configuration,
 * build the {@link SparkSession}, check the ND4J backend, call the stage's {@code run}, print its summary.
 * A failure ends the process with a non-zero status and a one-line cause as the last line of standard error
 * (status 2 for bad arguments, configuration or an unsupported ND4J backend, 3 for a refused overwrite, 4 for bad input data or upstream stages - a
 * retry cannot help either -, 1 otherwise).
 */
public final class StageLauncher {

    static final String SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions";
    /**
     * The stages' SQL shuffles move ids, labels and metrics, never pixels or weights (those go through explicitly partitioned
     * RDDs and broadcast joins), so Spark's default of 200 tasks per shuffle is all overhead: 8 made an ingest of the tiny
     * preset about 10 s shorter on 2 cores. Fixed rather than the core count, so plans are the same on any cluster;
     * {@code --conf spark.sql.shuffle.partitions=N} overrides it.
     */
    static final String DEFAULT_SHUFFLE_PARTITIONS = "8";

    private static final Logger LOG = LoggerFactory.getLogger(StageLauncher.class);

    /** Builds a stage's settings record from the validated configuration and the command line. */
    @FunctionalInterface
    public interface SettingsFactory<S> {
        S create(Config config, StageArgs args);
    }

    /** A stage's {@code run(settings, spark)}. */
    @FunctionalInterface
    public interface StageBody<S, R extends StageResult> {
        R run(S settings, SparkSession spark) throws Exception;
    }

    private StageLauncher() {
    }

    /**
     * @param stage             stage name for logs and the application name
     * @param args              the command line
     * @param stageOptions      extra {@code --name value} options the stage accepts
     * @param positionalAllowed whether positional arguments are accepted
     */
    public static <S, R extends StageResult> void launch(String stage, String[] args, Set<String> stageOptions, boolean positionalAllowed,
                                                         SettingsFactory<S> settingsFactory, StageBody<S, R> body) {
        launch(stage, args, stageOptions, positionalAllowed, settingsFactory, s -> Map.of(), body);
    }

    /** {@link #launch} with Spark settings the job needs before its session starts (e.g. the persistent catalog). */
    public static <S, R extends StageResult> void launch(String stage, String[] args, Set<String> stageOptions, boolean positionalAllowed,
                                                         SettingsFactory<S> settingsFactory,
                                                         Function<S, Map<String, String>> sparkConf, StageBody<S, R> body) {
        int status = run(stage, args, stageOptions, positionalAllowed, settingsFactory, sparkConf, body);
        if (status != 0) {
            System.exit(status);
        }
    }

    static <S, R extends StageResult> int run(String stage, String[] args, Set<String> stageOptions, boolean positionalAllowed,
                                              SettingsFactory<S> settingsFactory, StageBody<S, R> body) {
        return run(stage, args, stageOptions, positionalAllowed, settingsFactory, s -> Map.of(), body);
    }

    static <S, R extends StageResult> int run(String stage, String[] args, Set<String> stageOptions, boolean positionalAllowed,
                                              SettingsFactory<S> settingsFactory,
                                              Function<S, Map<String, String>> sparkConf, StageBody<S, R> body) {
        S settings;
        Config config;
        StageArgs parsed;
        try {
            parsed = StageArgs.parse(args, stageOptions, positionalAllowed);
            config = parsed.loadConfig();
            settings = settingsFactory.create(config, parsed);
        } catch (InvalidSettingsException e) {
            return fail(stage, e, 2);
        }
        // one line on the console; the whole resolved configuration is in the stage's _stage.json (and at DEBUG here)
        LOG.info("spark-nas {}: {}", stage, settingsLine(config, parsed));
        LOG.debug("spark-nas {}: resolved configuration\n{}", stage, NasConfig.renderForLog(config));
        SparkSession spark = null;
        Throwable failure;
        int status;
        try {
            SparkConf conf = new SparkConf();
            SparkSession.Builder builder = SparkSession.builder().appName("spark-nas " + stage);
            if (!conf.contains("spark.master")) {
                builder.master("local[*]");
            }
            if (!conf.contains(SHUFFLE_PARTITIONS)) {
                builder.config(SHUFFLE_PARTITIONS, DEFAULT_SHUFFLE_PARTITIONS);
            }
            sparkConf.apply(settings).forEach(builder::config);
            spark = builder.getOrCreate();
            SparkJobLabel.set(spark, stage, "reading inputs");
            BackendReport backend = JobEnvironment.backend();
            LOG.info("{}; native build: {}", backend.summary(), backend.buildInfo().replace('\n', ' '));
            NativeBackend.requireUsable(backend, config.getBoolean("nas.backend.require-onednn"));
            R result = body.run(settings, spark);
            System.out.println(result.summary());
            return 0;
        } catch (InvalidSettingsException e) {
            StageCommit.abortOpen(e);
            failure = e;
            status = 2;
        } catch (StageConflictException e) {
            failure = e;
            status = 3;
        } catch (UnsupportedBackendException e) {
            failure = e;
            status = 2;
        } catch (Exception | Error e) {
            StageCommit.abortOpen(e);
            if (missingS3Credentials(e)) {
                failure = new InvalidSettingsException("No S3 credentials: S3A found none for the s3a:// paths of this stage. Set "
                        + "spark.hadoop.hadoop.security.credential.provider.path to a credential file made with submit/hadoop-credential, or "
                        + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment of the driver and the workers' hosts (README, \"S3\").", e);
                status = 2;
            } else if (outOfSpace(e)) {
                failure = new InputDataException("The file system of the run root is full (No space left on device) while stage " + stage
                        + " was writing: nothing of the stage is committed, and its last complete checkpoint (if it makes them) is kept. Free "
                        + "space there and re-run the stage with --resume, or give another --run-root.", e);
                status = 4;
            } else {
                failure = e;
                status = causedByInput(e) ? 4 : 1;
            }
        } finally {
            if (spark != null) {
                spark.stop();
            }
        }
        // after Spark has stopped and the tasks of the failed job have ended, so that none logs after it: the cause is the
        // last line of standard error
        awaitLocalTasks(LOCAL_TASK_WAIT_MS);
        return fail(stage, failure, status);
    }

    /**
     * A stage's key settings in one line: run, method, config file, the options and the {@code -D} overrides given (what
     * differs from the preset). The whole resolved configuration is stored in {@code _stage.json}.
     */
    static String settingsLine(Config config, StageArgs a) {
        StringBuilder sb = new StringBuilder("run ").append(config.getString("nas.run.id").isBlank() ? "(new)" : config.getString("nas.run.id"))
                .append(" under ").append(config.getString("nas.run.root")).append(", method ").append(config.getString("nas.run.method"));
        if (a.configFile() != null) {
            sb.append(", config ").append(a.configFile());
        }
        a.options().forEach((k, v) -> sb.append(", --").append(k).append(' ').append(v));
        if (a.force()) {
            sb.append(", --force");
        }
        if (a.resume()) {
            sb.append(", --resume");
        }
        List<String> overrides = a.overrides().entrySet().stream().filter(e -> !e.getKey().startsWith("nas.run."))
                .map(e -> "-D" + e.getKey() + "=" + e.getValue()).sorted().toList();
        sb.append(overrides.isEmpty() ? "; no -D overrides" : "; " + String.join(" ", overrides));
        return sb.append(" (the whole configuration: the stage's _stage.json)").toString();
    }

    /** How long a failing stage waits for local-mode task threads still running before it prints its cause. */
    static final long LOCAL_TASK_WAIT_MS = 30_000;

    /**
     * Waits until no local-mode task thread runs, at most {@code timeoutMs}. {@code SparkContext.stop()} does not wait for the
     * tasks a failed job left running (a cancelled task runs to its end unless it looks at its kill flag), and in local mode
     * they run in this JVM and log their own failure when they end. Seen once in DeterminismIT's full-disk test: the last
     * line of standard error was a stack trace's {@code at java.lang.Thread.run}, below the stage's one-line cause (a
     * checkpoint's Parquet tables are written by two tasks; the second failing after the first had failed the job).
     */
    static void awaitLocalTasks(long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (System.nanoTime() < deadline && Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().startsWith("Executor task launch worker"))) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static int fail(String stage, Throwable e, int status) {
        if (status == 1) {
            LOG.error("spark-nas {} failed", stage, e);
        }
        System.out.flush();
        String cause = rootMessage(e).replace('\n', ' ');
        System.err.println();
        System.err.println("spark-nas " + stage + " failed: " + cause);
        System.err.flush();
        return status;
    }

    /** Whether S3A failed for want of credentials (by name: hadoop-aws is the cluster's, not on this module's compile path). */
    static boolean missingS3Credentials(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage();
            if (t.getClass().getName().equals("org.apache.hadoop.fs.s3a.auth.NoAuthWithAWSException") || m.contains("Unable to load AWS credentials")
                    || m.contains("No AWS Credentials provided")) {
                return true;
            }
        }
        return false;
    }

    /** Whether a write failed for want of space ({@code ENOSPC}'s message, however Spark or Hadoop wrapped it). */
    static boolean outOfSpace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
                return true;
            }
            for (Throwable s : t.getSuppressed()) {
                if (s.getMessage() != null && s.getMessage().contains("No space left on device")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the failure is bad input data or a bad upstream stage ({@link InputDataException}), even wrapped by Spark. */
    static boolean causedByInput(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InputDataException) {
                return true;
            }
        }
        return false;
    }

    /** The most specific message in the cause chain (Spark wraps task failures several times). */
    static String rootMessage(Throwable e) {
        Throwable best = e;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InvalidSettingsException || t instanceof StageConflictException || t instanceof InputDataException) {
                return t.getMessage();
            }
            if (t.getMessage() != null) {
                best = t;
            }
        }
        return best.getMessage() != null ? best.getClass().getSimpleName() + ": " + best.getMessage() : best.toString();
    }
}
