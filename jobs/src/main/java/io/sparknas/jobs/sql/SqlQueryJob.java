package io.sparknas.jobs.sql;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.StageLauncher;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code sql} job ({@code submit/nas-sql}): registers every committed table of a run as a Spark view named
 * {@code <stage-dir>_<table>} with '-' replaced by '_' (e.g. {@code ingest_images}, {@code supernet_train_2_train_metrics})
 * and runs the given statements, printing the last one's result. Uncommitted stage directories are not registered.
 */
public final class SqlQueryJob {

    private static final Logger LOG = LoggerFactory.getLogger(SqlQueryJob.class);

    private SqlQueryJob() {
    }

    public static void main(String[] args) {
        StageLauncher.launch("sql", args, SqlSettings.OPTIONS, true, SqlSettings::from, SqlQueryJob::run);
    }

    public static SqlResult run(SqlSettings s, SparkSession spark) {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        List<String> views = registerRun(spark, store);
        if (views.isEmpty()) {
            throw new InputDataException("Run " + s.run().runId() + " under " + s.run().root() + " has no committed stage (" + store.runDir()
                    + "): check --run-root and --run-id.");
        }
        Dataset<Row> last = null;
        for (String stmt : statements(s.query())) {
            last = spark.sql(stmt);
        }
        if (last == null) {
            throw new InputDataException("The query is empty.");
        }
        List<String> columns = List.of(last.columns());
        List<Row> rows = last.limit(s.limit() + 1).collectAsList();
        boolean truncated = rows.size() > s.limit();
        return new SqlResult(columns, truncated ? rows.subList(0, s.limit()) : rows, truncated, s.format(), views);
    }

    /** Registers every table of every committed stage of the run; returns the view names. */
    public static List<String> registerRun(SparkSession spark, RunStore store) {
        List<String> views = new ArrayList<>();
        for (StageRecord r : store.committedStages()) {
            for (Map.Entry<String, StageRecord.Table> t : r.tables().entrySet()) {
                String view = viewName(r.stageDir(), t.getKey());
                spark.read().parquet(store.tableUri(r.stageDir(), t.getValue().path())).createOrReplaceTempView(view);
                views.add(view);
            }
        }
        LOG.info("Registered views of run {}: {}", store.runId(), views);
        return views;
    }

    public static String viewName(String stageDir, String table) {
        return (stageDir + "_" + table).replace('-', '_');
    }

    /** Splits on ';' outside quotes and comments; blank statements are dropped. */
    static List<String> statements(String sql) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (quote == 0 && c == '-' && i + 1 < sql.length() && sql.charAt(i + 1) == '-') {
                while (i < sql.length() && sql.charAt(i) != '\n') {
                    i++;
                }
                cur.append('\n');
                continue;
            }
            if (quote == 0 && (c == '\'' || c == '"' || c == '`')) {
                quote = c;
            } else if (quote != 0 && c == quote) {
                quote = 0;
            }
            if (c == ';' && quote == 0) {
                if (!cur.toString().isBlank()) {
                    out.add(cur.toString().trim());
                }
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (!cur.toString().isBlank()) {
            out.add(cur.toString().trim());
        }
        return out;
    }
}
