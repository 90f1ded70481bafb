package io.sparknas.jobs.latency;

import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.supernet.RunSpace;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.net.LatencyProfiler;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Stage latency-profile: measures every candidate op of the run's search space at every layer shape, plus stem, head and
 * classifier, on the executors, and writes the lookup table that {@link io.sparknas.supernet.cost.LatencyCostModel} sums
 * (PAD-NAS section 3.2 and DA-NAS section 3.3 build their latency constraints from such a table).
 *
 * <p>Each probe runs {@code nas.latency.warmup} unmeasured and {@code nas.latency.repeats} measured inference passes of a
 * batch of {@code nas.latency.batch-size}; the table keeps the median (and the 90th percentile for reports). Probes are
 * spread over {@code nas.latency.parallelism} tasks (default 1, so measurements do not compete for the executor's cores).
 *
 * <p>Output: table {@code latency} (part, op, in_height, in_channels, out_channels, stride, batch_size, median_ms, p90_ms,
 * repeats, host).
 */
public final class LatencyProfileStage {

    public static final String STAGE = "latency-profile";
    public static final String LATENCY = "latency";
    public static final int SCHEMA_VERSION = io.sparknas.jobs.store.SchemaVersions.of("latency-profile");

    private static final Logger LOG = LoggerFactory.getLogger(LatencyProfileStage.class);

    static final StructType SCHEMA = new StructType()
            .add("part", DataTypes.StringType, false).add("op", DataTypes.StringType, false)
            .add("in_height", DataTypes.IntegerType, false).add("in_channels", DataTypes.IntegerType, false)
            .add("out_channels", DataTypes.IntegerType, false).add("stride", DataTypes.IntegerType, false)
            .add("batch_size", DataTypes.IntegerType, false).add("median_ms", DataTypes.DoubleType, false)
            .add("p90_ms", DataTypes.DoubleType, false).add("repeats", DataTypes.IntegerType, false)
            .add("host", DataTypes.StringType, false);

    private LatencyProfileStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(STAGE, args, Set.of(), false, LatencyProfileSettings::from, LatencyProfileStage::run);
    }

    public static LatencyProfileResult run(LatencyProfileSettings s, SparkSession spark) {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.run().runId(), s.space());
        SearchSpace space = rs.space();
        StageCommit commit = StageCommit.begin(store, s.run(), STAGE, 0, NasConfig.hash(s.run().config(), LatencyProfileSettings.SECTIONS),
                s.seed(), List.of(rs.input(store)));
        if (commit.skipped()) {
            return LatencyProfileResult.read(spark, store, commit.existing(), space, true);
        }
        try {
            List<LatencyProbe> probes = LatencyProbe.of(space);
            LOG.info("latency-profile: {} probes of space {} (batch {}, {} warm-up + {} measured passes each, {} tasks)", probes.size(),
                    space.family(), s.batchSize(), s.warmup(), s.repeats(), s.parallelism());
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int batch = s.batchSize();
            int warmup = s.warmup();
            int repeats = s.repeats();
            long seed = s.seed();
            int total = probes.size();
            SparkJobLabel.set(spark, "latency-profile", "timing " + total + " probes on " + Math.min(s.parallelism(), total) + " tasks");
            List<Row> rows = jsc.parallelize(probes, Math.min(s.parallelism(), probes.size())).mapPartitions(it -> {
                LatencyProfiler profiler = new LatencyProfiler(batch, warmup, repeats, seed);
                String host = InetAddress.getLocalHost().getHostName();
                Logger log = LoggerFactory.getLogger(LatencyProfileStage.class);
                List<Row> out = new ArrayList<>();
                while (it.hasNext()) {
                    LatencyProbe p = it.next();
                    LatencyProfiler.Timing t = profiler.measure(p);
                    log.info("latency-profile: {}: median {} ms, p90 {} ms ({} measured by this task; {} probes in all)", p.describe(), String.format("%.3f", t.medianMs()),
                            String.format("%.3f", t.p90Ms()), out.size() + 1, total);
                    out.add(RowFactory.create(p.part(), p.op(), p.inHeight(), p.inChannels(), p.outChannels(), p.stride(), batch, t.medianMs(),
                            t.p90Ms(), t.repeats(), host));
                }
                return out.iterator();
            }).collect();
            if (rows.size() != probes.size()) {
                throw new IllegalStateException("latency-profile measured " + rows.size() + " of " + probes.size() + " probes");
            }
            spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(commit.tableUri(LATENCY));
            commit.addTable(LATENCY, rows.size(), SCHEMA_VERSION, List.of());
            commit.putProperty("space_hash", space.hash());
            commit.putProperty("batch_size", String.valueOf(batch));
            commit.putProperty("device", JobEnvironment.backend().summary());
            StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
            return LatencyProfileResult.read(spark, store, record, space, false);
        } catch (RuntimeException e) {
            commit.abort(e);
            throw e;
        }
    }

    /** The committed latency table of a run, checked: a clear error when the stage is missing or of another schema version. */
    public static LatencyTable readTable(SparkSession spark, RunStore store) {
        StageRecord record = store.committed(STAGE).orElseThrow(() -> new InputDataException("Run " + store.runId()
                + " has no committed latency-profile stage at " + store.stageDir(STAGE) + ": run submit/latency-profile.sh first, or "
                + "choose a cost model that needs no measurement (mflops, mparams)."));
        return readTable(spark, store, record);
    }

    static LatencyTable readTable(SparkSession spark, RunStore store, StageRecord record) {
        StageRecord.Table t = record.tables().get(LATENCY);
        if (t == null || t.schemaVersion() != SCHEMA_VERSION) {
            throw new InputDataException("Table latency-profile/" + LATENCY + " of run " + store.runId() + " has schema version "
                    + (t == null ? "none" : t.schemaVersion()) + "; this version reads " + SCHEMA_VERSION + ". Re-run latency-profile (--force).");
        }
        List<Row> rows = spark.read().parquet(store.tableUri(record.stageDir(), LATENCY)).collectAsList();
        if (rows.size() != t.rows()) {
            throw new InputDataException("Table " + store.tableUri(record.stageDir(), LATENCY) + " has " + rows.size() + " rows; its _stage.json says "
                    + t.rows() + ". Re-run latency-profile (--force).");
        }
        List<LatencyTable.Measurement> m = new ArrayList<>();
        int batch = -1;
        for (Row r : rows) {
            m.add(new LatencyTable.Measurement(new LatencyProbe(r.getAs("part"), r.getAs("op"), r.<Integer>getAs("in_height"),
                    r.<Integer>getAs("in_channels"), r.<Integer>getAs("out_channels"), r.<Integer>getAs("stride")), r.<Double>getAs("median_ms")));
            batch = r.<Integer>getAs("batch_size");
        }
        return LatencyTable.of(batch, record.properties().getOrDefault("device", "unknown"), m);
    }
}
