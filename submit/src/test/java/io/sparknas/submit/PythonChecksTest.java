package io.sparknas.submit;

import java.io.IOException;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Airflow DAGs and the notebooks, checked by their python3 (standard library) checkers: Airflow, Jupyter and PySpark
 * cannot be installed here, so what is checked is what can drift from the code (DAG tasks against submit/pipeline.sh
 * --dry-run and the application jar; notebook JSON, cells and the query files they run).
 */
class PythonChecksTest {

    @Test
    void airflowDagsMatchThePipelineAndTheJar() throws Exception {
        String out = python("submit/airflow/check_dags.py");
        assertTrue(out.contains("5 DAGs, 12 configuration cases checked; 0 failures"), out);
    }

    @Test
    void dagParamsReachTheStageVerbatimOrAreRefusedNeverAShell() throws Exception {
        String out = python("submit/airflow/check_dag_params.py");
        assertTrue(out.contains("38 tasks of 5 DAGs rendered with hostile params, 11 plan cases") && out.contains("; 0 failures"), out);
    }

    @Test
    void notebooksAreValidAndRunOnlyTheQueryFiles() throws Exception {
        String out = python("notebooks/check_notebooks.py");
        assertTrue(out.contains("3 notebooks, 10 query files checked; 0 failures"), out);
    }

    private static String python(String script) throws Exception {
        File log = Files.createTempFile("python-check", ".txt").toFile();
        Process p;
        try {
            p = new ProcessBuilder("python3", script).directory(Scripts.projectRoot().toFile()).redirectErrorStream(true)
                    .redirectOutput(log).start();
        } catch (IOException e) {
            throw new AssertionError("python3 is needed for " + script + " (apt-get install -y python3): " + e.getMessage(), e);
        }
        Scripts.awaitOrKill(p, 5, script);
        String out = Files.readString(log.toPath(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), script + ":\n" + out);
        return out;
    }
}
