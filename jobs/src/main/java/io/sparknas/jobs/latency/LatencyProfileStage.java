package io.sparknas.jobs.latency;

import io.sparknas.jobs.artifact.LatencyProfileOutputs;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.supernet.net.LatencyProfiler;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
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

    private static final Logger LOG = LoggerFactory.getLogger(LatencyProfileStage.class);

    private LatencyProfileStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(LatencyProfileOutputs.STAGE, args, Set.of(), false, LatencyProfileSettings::from, LatencyProfileStage::run);
    }

    public static LatencyProfileResult run(LatencyProfileSettings s, SparkSession spark) {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.run().runId(), s.space());
        SearchSpace space = rs.space();
        StageCommit commit = StageCommit.begin(store, s.run(), LatencyProfileOutputs.STAGE, 0, NasConfig.hash(s.run().config(), LatencyProfileSettings.SECTIONS),
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
            spark.createDataFrame(rows, LatencyProfileOutputs.SCHEMA).coalesce(1).write().parquet(commit.tableUri(LatencyProfileOutputs.LATENCY));
            commit.addTable(LatencyProfileOutputs.LATENCY, rows.size(), LatencyProfileOutputs.SCHEMA_VERSION, List.of());
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
}
