package io.sparknas.jobs.catalog;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code register-tables} job ({@code submit/register-tables.sh}, run by {@code submit/pipeline.sh} at its end): every
 * committed table of a run becomes an external Parquet table {@code nas_<run>.<stage-dir>_<table>} ('-' as '_', the names
 * {@code submit/nas-sql} gives its views) in Spark's persistent (Hive) catalog, so a later Spark session, {@code spark-sql}
 * or a notebook on the same metastore can {@code SELECT} it by name. The data stays where the stage wrote it (local or
 * {@code s3a://}); partitioned tables get their partitions. Registering again replaces the definitions and drops the tables
 * of stages no longer committed, so the database always mirrors the run's committed stages. It writes nothing in the run.
 */
public final class RegisterTablesJob {

    private static final Logger LOG = LoggerFactory.getLogger(RegisterTablesJob.class);

    private RegisterTablesJob() {
    }

    public static void main(String[] args) {
        StageLauncher.launch("register-tables", args, Set.of(), false, RegisterTablesSettings::from, s -> s.catalog().sparkConf(),
                RegisterTablesJob::run);
    }

    public static RegisterTablesResult run(RegisterTablesSettings s, SparkSession spark) {
        HiveCatalog.require(spark);
        SparkJobLabel.set(spark, "register-tables", "registering run " + s.run().runId());
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        List<StageRecord> stages = store.committedStages();
        if (stages.isEmpty()) {
            throw new InputDataException("Run " + s.run().runId() + " under " + s.run().root() + " has no committed stage (" + store.runDir()
                    + "): check --run-root and --run-id.");
        }
        String db = s.database();
        spark.sql("CREATE DATABASE IF NOT EXISTS " + quote(db) + " COMMENT " + literal("spark-nas run " + s.run().runId() + " at " + store.runDir()));
        List<String> names = new ArrayList<>();
        for (StageRecord r : stages) {
            for (Map.Entry<String, StageRecord.Table> t : r.tables().entrySet()) {
                String name = HiveCatalog.viewName(r.stageDir(), t.getKey());
                String qualified = quote(db) + "." + quote(name);
                String location = store.tableUri(r.stageDir(), t.getValue().path());
                List<String> partitions = t.getValue().partitionedBy() == null ? List.of() : t.getValue().partitionedBy();
                spark.sql("DROP TABLE IF EXISTS " + qualified);
                // schema and partition columns are inferred from the files (Spark refuses PARTITIONED BY without a schema)
                spark.sql("CREATE TABLE " + qualified + " USING parquet LOCATION " + literal(location));
                if (!partitions.isEmpty()) {
                    spark.sql("MSCK REPAIR TABLE " + qualified);
                }
                long rows = spark.table(db + "." + name).count();
                if (rows != t.getValue().rows()) {
                    throw new InputDataException(db + "." + name + " reads " + rows + " rows from " + location + " but " + r.stageDir() + "/_stage.json "
                            + "records " + t.getValue().rows() + ": the stage's files changed after it committed; re-run stage " + r.stageDir() + " with --force.");
                }
                names.add(name);
            }
        }
        Set<String> current = new HashSet<>(names);
        List<String> dropped = new ArrayList<>();
        for (Row t : spark.sql("SHOW TABLES IN " + quote(db)).collectAsList()) {
            String name = t.getString(t.fieldIndex("tableName"));
            if (!t.getBoolean(t.fieldIndex("isTemporary")) && !current.contains(name)) {
                spark.sql("DROP TABLE IF EXISTS " + quote(db) + "." + quote(name));
                dropped.add(name);
            }
        }
        String where = s.catalog().metastore() == null ? "the cluster's metastore" : "metastore " + s.catalog().metastore();
        LOG.info("register-tables: {} tables of run {} in database {} ({}); dropped {}", names.size(), s.run().runId(), db, where, dropped);
        return new RegisterTablesResult(db, names, dropped, where);
    }

    static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    static String literal(String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
