package io.sparknas.jobs.sql;

import org.apache.spark.sql.RowFactory;
import java.nio.charset.StandardCharsets;
import java.io.StringReader;
import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.io.BufferedReader;
import io.sparknas.jobs.catalog.HiveCatalog;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SqlQueryJobTest {

    @TempDir
    Path root;

    @Test
    void registersCommittedTablesOnlyAndAnswersQueries() throws IOException {
        SparkSession spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "q", false, Map.of()), spark);
        // an uncommitted stage directory (no _stage.json) must not become a view
        SharedSpark.session().range(3).write().parquet(root.resolve("q/search/candidates").toString());

        Path sqlFile = root.resolve("q.sql");
        Files.writeString(sqlFile, "-- counts per split; a ';' in a comment or 'a;b' string is not a separator\n"
                + "select split, count(*) as n, 'a;b' as s from ingest_images group by split order by split;\n");
        StageArgs args = StageArgs.parse(new String[]{"--run-root", root.toString(), "--run-id", "q", "--file", sqlFile.toString(),
                "--format", "tsv"}, SqlSettings.OPTIONS, true);
        SqlResult r = SqlQueryJob.query(SqlSettings.from(args.loadConfig(), args), spark);
        // only the view the statement names is registered (registering one reads its footers and lists its folders)
        assertEquals(List.of("ingest_images"), r.views());
        assertEquals("split\tn\ts\ntest\t1000\ta;b\ntrain\t2000\ta;b\nval\t500\ta;b", r.summary());
        // a statement naming none of the run's views (show tables) sees all of them, and only the committed stages'
        SqlResult all = SqlQueryJob.query(SqlSettings.from(args.loadConfig(), StageArgs.parse(new String[]{"--run-root", root.toString(),
                "--run-id", "q", "--format", "tsv", "show tables"}, SqlSettings.OPTIONS, true)), spark);
        assertEquals(List.of("ingest_images", "ingest_classes", "ingest_rejects"), all.views());
        assertTrue(all.summary().contains("ingest_rejects") && !all.summary().contains("search_candidates"), all.summary());

    }

    @Test
    void aSessionAnswersEveryStatementAndSeesStagesCommittedAfterItStarted() throws IOException {
        SparkSession spark = SharedSpark.session();
        StageArgs sa = StageArgs.parse(new String[]{"--run-root", root.toString(), "--run-id", "s", "--file", "-", "--format", "tsv"},
                SqlSettings.OPTIONS, true);
        SqlSettings ss = SqlSettings.from(sa.loadConfig(), sa);
        assertTrue(ss.session());
        String statements = "select count(*) from ingest_images;\nselect count(*) as n\nfrom ingest_images;\nselect * from no_such_view;\n"
                + "select count(*) as classes from ingest_classes;\n";
        // the run's ingest commits while the session is open, after its first statement
        BufferedReader in = new BufferedReader(new StringReader(statements)) {
            int lines;

            @Override
            public String readLine() throws IOException {
                if (++lines == 2) {
                    IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "s", false, Map.of()), spark);
                }
                return super.readLine();
            }
        };
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        SqlQueryJob.SessionResult done = SqlQueryJob.session(ss, spark, in, new PrintStream(printed, true));
        List<String> answers = List.of(printed.toString(StandardCharsets.UTF_8).split("\n"));
        assertEquals(4, done.statements(), answers.toString());
        assertTrue(answers.get(0).startsWith(SqlQueryJob.ERROR) && answers.get(0).contains("ingest_images"), "nothing committed yet: " + answers);
        assertEquals(List.of("n", "3500", SqlQueryJob.END), answers.subList(1, 4), "a statement over two lines, on the stage committed since");
        assertTrue(answers.get(4).startsWith(SqlQueryJob.ERROR) && answers.get(4).contains("no_such_view"), "an error does not end it: " + answers);
        assertEquals(List.of("classes", "10", SqlQueryJob.END), answers.subList(5, 8));
        assertEquals(2, done.failed(), "the two statements that ended in an error are counted");
        assertTrue(done.firstError().contains("ingest_images") && done.summary().equals("-- 4 statements answered, 2 failed"), done.toString());
    }

    @Test
    void statementSplitting() {
        assertEquals(List.of("select 1", "select ';'"), SqlQueryJob.statements("select 1;\nselect ';'; -- trailing; comment\n"));
        assertEquals("supernet_train_2_train_metrics", HiveCatalog.viewName("supernet-train-2", "train_metrics"));
    }

    @Test
    void tableFormatAlignsColumns() {
        SqlResult r = new SqlResult(List.of("a", "longer"), List.of(RowFactory.create("xyz", 1)), false, "table", List.of());
        assertEquals("a   | longer\n----+-------\nxyz | 1\n(1 row)", r.summary());
        assertTrue(Set.of("table", "tsv").contains(r.format()));
    }
}
