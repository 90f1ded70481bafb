package io.sparknas.jobs.sql;

import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import io.sparknas.jobs.testing.TestConfigs;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Every query file the notebooks use runs against a real tiny run. */
class NotebookQueriesTest {

    @TempDir
    Path root;

    @Test
    void everyNotebookQueryRuns() throws IOException {
        SparkSession spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "nb", false, Map.of()), spark);
        SqlQueryJob.registerRun(spark, new RunStore(root.toUri(), "nb", spark.sparkContext().hadoopConfiguration()));
        List<Path> files;
        try (Stream<Path> s = Files.list(TestConfigs.projectRoot().resolve("notebooks/sql"))) {
            files = s.filter(p -> p.toString().endsWith(".sql")).sorted().toList();
        }
        assertFalse(files.isEmpty());
        for (Path f : files) {
            List<String> stmts = SqlQueryJob.statements(Files.readString(f));
            List<Row> rows = null;
            for (String stmt : stmts) {
                rows = spark.sql(stmt).collectAsList();
            }
            assertFalse(rows == null || rows.isEmpty(), f + " returned no rows");
        }
        // ingest_overview: 10 classes x 3 splits; train rows carry the cap of the tiny preset
        List<Row> overview = spark.sql(Files.readString(TestConfigs.projectRoot().resolve("notebooks/sql/ingest_overview.sql"))).collectAsList();
        assertEquals(30, overview.size());
        assertEquals("T-shirt/top", overview.get(0).getString(1));
        assertEquals(100L, overview.get(0).getLong(3), "test images of class 0");
        assertEquals(200L, overview.get(1).getLong(3), "train images of class 0");
    }
}
