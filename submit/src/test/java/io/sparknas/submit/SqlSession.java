package io.sparknas.submit;

import java.util.ArrayList;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code submit/nas-sql --file -} process (one JVM and Spark session) answering many queries on a run, as a user's
 * console would: a query costs its own work only, not a JVM and Spark start-up each (about 19 s on 2 cores).
 */
final class SqlSession implements AutoCloseable {

    /** Printed by the job after each answer ({@code SqlQueryJob.END}, {@code SqlQueryJob.ERROR}). */
    private static final String END = "-- end";
    private static final String ERROR = "-- error: ";

    private final Process process;
    private final Writer in;
    private final BufferedReader out;
    private final File err;

    SqlSession(Path runRoot, String runId, String... extra) throws IOException {
        err = Files.createTempFile("nas-sql-session", ".err").toFile();
        List<String> cmd = new ArrayList<>(List.of(Scripts.projectRoot().resolve("submit/nas-sql").toString(), "--run-root", runRoot.toString(),
                "--format", "tsv", "--file", "-"));
        if (runId != null) {
            cmd.addAll(List.of("--run-id", runId));
        }
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Scripts.projectRoot().toFile());
        pb.environment().remove("SPARK_HOME");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("NAS_DRIVER_MEMORY", "2g");
        process = pb.redirectError(err).start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** The answer to one query (status 0 and the TSV result, or status 1 and the error line). */
    Scripts.Run query(String sql) throws IOException {
        String one = sql.replace('\n', ' ').strip();
        in.write(one.endsWith(";") ? one + "\n" : one + ";\n");
        in.flush();
        StringBuilder answer = new StringBuilder();
        for (String line = out.readLine(); ; line = out.readLine()) {
            if (line == null) {
                throw new IllegalStateException("nas-sql session ended before answering " + sql + ":\n"
                        + Scripts.tail(Files.readString(err.toPath(), StandardCharsets.UTF_8), 40));
            }
            if (line.equals(END)) {
                return new Scripts.Run(0, answer.toString(), "");
            }
            if (line.startsWith(ERROR)) {
                return new Scripts.Run(1, answer.toString(), line);
            }
            answer.append(line).append('\n');
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        in.close();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            // the session's JVM and anything it started
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
