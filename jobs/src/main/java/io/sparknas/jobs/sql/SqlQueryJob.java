package io.sparknas.jobs.sql;

import java.nio.charset.StandardCharsets;
import java.io.PrintStream;
import java.io.InputStreamReader;
import java.io.IOException;
import java.io.BufferedReader;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.catalog.HiveCatalog;
import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code sql} job ({@code submit/nas-sql}): every committed table of a run is a Spark view named
 * {@code <stage-dir>_<table>} with '-' replaced by '_' (e.g. {@code ingest_images}, {@code supernet_train_2_train_metrics}),
 * registered when a statement names it ({@link RunViews}); runs the given statements, printing the last one's result.
 * Uncommitted stage directories are not registered.
 * With {@code --file -} it reads statements from standard input and answers each as it comes ({@link #session}).
 */
public final class SqlQueryJob {

    private static final Logger LOG = LoggerFactory.getLogger(SqlQueryJob.class);

    private SqlQueryJob() {
    }

    public static void main(String[] args) {
        StageLauncher.launch("sql", args, SqlSettings.OPTIONS, true, SqlSettings::from, SqlSettings::sparkConf, SqlQueryJob::run);
    }

    public static StageResult run(SqlSettings s, SparkSession spark) throws IOException {
        if (s.database() != null) {
            useDatabase(spark, s.database());
        }
        if (!s.session()) {
            return query(s, spark);
        }
        SessionResult done = session(s, spark, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
                System.out);
        if (done.failed() > 0) {
            // every statement was answered (or its error printed); the exit status says that not all succeeded
            System.out.println(done.summary());
            throw new InputDataException("nas-sql: " + done.failed() + " of " + done.statements() + " statements failed (the first: "
                    + done.firstError() + "); each failure is printed after its statement as '" + ERROR.strip() + " ...'.");
        }
        return done;
    }

    /** Marks the end of one statement's answer in a session: {@code -- end} after a result, {@code -- error: ...} instead of one. */
    public static final String END = "-- end";
    public static final String ERROR = "-- error: ";

    /**
     * Reads statements from {@code in} (each ends with ';' at the end of a line) and prints each one's result followed by
     * {@link #END}, or {@link #ERROR} and the message, until the input ends: one JVM and Spark session for many queries (a
     * notebook-less console, and what the end-to-end tests use). A view is registered when a statement first names it,
     * and registered again when the run's committed stages have changed since the last statement.
     */
    static SessionResult session(SqlSettings s, SparkSession spark, BufferedReader in, PrintStream out) throws IOException {
        // with --database the catalog's tables answer, not the run's views
        RunViews views = s.database() != null ? null
                : new RunViews(new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration()));
        int answered = 0;
        int failed = 0;
        String firstError = null;
        StringBuilder stmt = new StringBuilder();
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            stmt.append(line).append('\n');
            if (!line.strip().endsWith(";")) {
                continue;
            }
            String text = stmt.toString();
            stmt.setLength(0);
            try {
                List<String> statements = statements(text);
                if (views != null) {
                    // the session's views are the run's committed tables, exactly: a stage re-run or removed since is not
                    // answered from what it was
                    views.registerFor(spark, statements);
                }
                out.println(result(spark, statements, s).summary());
                out.println(END);
            } catch (Exception e) { // Spark's AnalysisException is checked in Scala's sense only
                String message = e.getMessage() == null ? e.toString() : e.getMessage().replace('\n', ' ');
                out.println(ERROR + message);
                failed++;
                firstError = firstError == null ? message : firstError;
            }
            out.flush();
            answered++;
        }
        return new SessionResult(answered, failed, firstError);
    }

    /**
     * What a session printed at its end.
     *
     * @param statements statements read
     * @param failed     how many of them ended with {@link #ERROR}
     * @param firstError the first failure's message, null when none failed
     */
    record SessionResult(int statements, int failed, String firstError) implements StageResult {
        @Override
        public String summary() {
            return "-- " + statements + (statements == 1 ? " statement" : " statements") + " answered"
                    + (failed > 0 ? ", " + failed + " failed" : "");
        }
    }

    static SqlResult query(SqlSettings s, SparkSession spark) {
        if (s.database() != null) {
            return result(spark, statements(s.query()), s);
        }
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunViews views = new RunViews(store);
        if (views.names(spark).isEmpty()) {
            throw new InputDataException("Run " + s.run().runId() + " under " + s.run().root() + " has no committed stage (" + store.runDir()
                    + "): check --run-root and --run-id.");
        }
        List<String> statements = statements(s.query());
        List<String> registered = views.registerFor(spark, statements);
        return result(spark, statements, s).withViews(registered);
    }

    /** Makes {@code database} of the persistent catalog the session's current one; a clear error if it is not there. */
    private static void useDatabase(SparkSession spark, String database) {
        HiveCatalog.require(spark);
        if (!spark.catalog().databaseExists(database)) {
            List<String> known = spark.sql("SHOW DATABASES").collectAsList().stream().map(r -> r.getString(0)).sorted().toList();
            throw new InputDataException("Database " + database + " is not in the catalog (" + known + "): register the run first with "
                    + "submit/register-tables.sh --run-id ID, and use the same nas.catalog.metastore.");
        }
        spark.catalog().setCurrentDatabase(database);
    }

    /** Runs the statements in order; the last one's result, at most {@code --limit} rows. */
    private static SqlResult result(SparkSession spark, List<String> statements, SqlSettings s) {
        Dataset<Row> last = null;
        for (String stmt : statements) {
            last = spark.sql(stmt);
        }
        if (last == null) {
            throw new InputDataException("The query is empty.");
        }
        List<String> columns = List.of(last.columns());
        List<Row> rows = last.limit(s.limit() + 1).collectAsList();
        boolean truncated = rows.size() > s.limit();
        return new SqlResult(columns, truncated ? rows.subList(0, s.limit()) : rows, truncated, s.format(), List.of());
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
