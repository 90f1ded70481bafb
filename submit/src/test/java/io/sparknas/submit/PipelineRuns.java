package io.sparknas.submit;

import java.util.Arrays;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * submit/pipeline.sh runs of an IT under one run root (with the IT's own catalog and Spark event logs), and the checks
 * that read what the runs left there: the catalog the notebooks query, and the job descriptions the Spark UI shows.
 * {@link PipelineIT} (SPOS, PAD-NAS) and {@link MethodPipelinesIT} (DA-NAS, DDPNAS, DSO-NAS) each have a root.
 */
final class PipelineRuns {

    /** Every stage whose Spark jobs may appear in an event log. */
    private static final Set<String> STAGES = Set.of("ingest", "easiness", "latency-profile", "supernet-train", "search", "prune",
            "retrain", "ranking", "report", "register-tables");

    private PipelineRuns() {
    }

    /**
     * submit/pipeline.sh with the catalog under {@code root} (not ./catalog) and Spark event logs of every stage in
     * {@code root/eventlog} (for {@link #assertEverySparkJobNamesItsStage}).
     */
    static Scripts.Run pipeline(Path root, String... args) throws Exception {
        Files.createDirectories(root.resolve("eventlog"));
        String[] all = Arrays.copyOf(args, args.length + 1);
        all[args.length] = "-Dnas.catalog.metastore=" + root.resolve("catalog");
        return Scripts.run(Map.of("NAS_SUBMIT_ARGS", "--conf spark.eventLog.enabled=true --conf spark.eventLog.dir=file:" + root.resolve("eventlog")),
                "submit/pipeline.sh", all);
    }

    /**
     * Every query of notebooks/queries that names one of {@code runOfMethod}'s methods answers, with the columns it
     * declares and at least one row, on that method's run, read by name from the catalog in a new JVM and Spark session;
     * and each run's database holds every table its stages committed.
     *
     * @return the queries answered (each file once per method of the map it names)
     */
    static int assertEveryNotebookQueryAnswers(Path root, Map<String, String> runOfMethod) throws Exception {
        return assertEveryNotebookQueryAnswers(root, runOfMethod, Map.of());
    }

    /**
     * As above, a query's {@code {chain}} replaced per method by {@code chainOfMethod} ("" when absent): the table-name
     * suffix of the method's last search and its retrain, ranking and report ({@code _2} for PAD-NAS with M = 3).
     */
    static int assertEveryNotebookQueryAnswers(Path root, Map<String, String> runOfMethod, Map<String, String> chainOfMethod) throws Exception {
        List<Path> files;
        try (Stream<Path> l = Files.list(Scripts.projectRoot().resolve("notebooks/queries"))) {
            files = l.filter(f -> f.toString().endsWith(".sql")).sorted().toList();
        }
        assertTrue(files.size() >= 10, files.toString());
        int answered = 0;
        String first = "nas_" + new TreeSet<>(runOfMethod.values()).first();
        try (SqlSession q = new SqlSession(root, null, "--database", first, "-Dnas.catalog.metastore=" + root.resolve("catalog"))) {
            for (String run : new TreeSet<>(runOfMethod.values())) {
                long tables = 0;
                try (Stream<Path> dirs = Files.list(root.resolve(run))) {
                    for (Path d : dirs.filter(d -> Files.isRegularFile(d.resolve("_stage.json"))).toList()) {
                        tables += new ObjectMapper().readTree(d.resolve("_stage.json").toFile()).get("tables").size();
                    }
                }
                Scripts.Run shown = q.query("show tables in nas_" + run);
                assertEquals(0, shown.status(), shown.toString());
                assertEquals(tables, body(shown).split("\n").length, "nas_" + run + " holds every committed table: " + shown.out());
            }
            for (Path f : files) {
                String text = Files.readString(f);
                Matcher runs = Pattern.compile("(?m)^-- runs: (.+)$").matcher(text);
                Matcher cols = Pattern.compile("(?m)^-- columns: (.+)$").matcher(text);
                assertTrue(runs.find() && cols.find(), f + " names its runs and columns");
                String query = text.replaceAll("(?m)^\\s*--.*$", "").strip();
                for (String method : runs.group(1).trim().split("\\s+")) {
                    if (!runOfMethod.containsKey(method)) {
                        continue; // another IT's run
                    }
                    Scripts.Run r = q.query("use nas_" + runOfMethod.get(method) + "; " + query.replace("{chain}", chainOfMethod.getOrDefault(method, "")));
                    assertEquals(0, r.status(), f.getFileName() + " on the " + method + " run: " + r);
                    String[] lines = r.out().strip().split("\n");
                    assertEquals(String.join("\t", cols.group(1).trim().split(",\\s*")), lines[0], f.getFileName() + " columns on " + method);
                    assertTrue(lines.length > 1, f.getFileName() + " returned no rows on the " + method + " run");
                    answered++;
                }
            }
        }
        return answered;
    }

    /**
     * The Spark UI's job list: every job in the event logs under {@code root} carries a description naming its stage (Spark's
     * own listing of a table's partition folders: its job group names the stage), the
     * stages {@code expected} all appear, and every stage launch ran with the launcher's 8 SQL shuffle partitions.
     *
     * @return the jobs seen and the launches whose Spark properties were checked
     */
    static int[] assertEverySparkJobNamesItsStage(Path root, Set<String> expected) throws Exception {
        ObjectMapper json = new ObjectMapper();
        int jobs = 0;
        Set<String> seen = new TreeSet<>();
        List<String> unlabelled = new ArrayList<>();
        int launches = 0;
        try (Stream<Path> logs = Files.list(root.resolve("eventlog"))) {
            for (Path log : logs.toList()) {
                for (String line : Files.readAllLines(log)) {
                    if (line.contains("\"SparkListenerEnvironmentUpdate\"")) {
                        // the launcher's default: 8 shuffle partitions, not Spark's 200 (the stages' SQL shuffles are small)
                        assertEquals("8", json.readTree(line).path("Spark Properties").path("spark.sql.shuffle.partitions").asText(),
                                log.getFileName() + ": spark.sql.shuffle.partitions");
                        launches++;
                    }
                    if (!line.contains("\"SparkListenerJobStart\"")) {
                        continue;
                    }
                    JsonNode props = json.readTree(line).path("Properties");
                    String desc = props.path("spark.job.description").asText("");
                    String group = props.path("spark.jobGroup.id").asText("");
                    jobs++;
                    String stage = STAGES.stream().filter(st -> desc.startsWith(st + ":") || desc.startsWith(st + " ")).findFirst().orElse(null);
                    if (stage == null && desc.startsWith("Listing leaf files and directories for") && STAGES.contains(group)) {
                        // Spark's own parallel listing of a table's partition folders (more than 32: the bucket folders)
                        // replaces the job's description with its own; the job group still names the stage
                        stage = group;
                    }
                    if (stage == null) {
                        unlabelled.add(log.getFileName() + ": group '" + group + "', description '" + desc + "'");
                    } else {
                        seen.add(stage);
                    }
                }
            }
        }
        assertTrue(unlabelled.isEmpty(), unlabelled.size() + " of " + jobs + " jobs without a stage description:\n" + String.join("\n", unlabelled));
        assertTrue(seen.containsAll(expected), "stages seen in the event logs: " + seen + ", expected " + expected);
        return new int[]{jobs, launches};
    }

    /** A query's answer without its header line. */
    static String body(Scripts.Run r) {
        String out = r.out().strip();
        return out.substring(out.indexOf('\n') + 1);
    }
}
