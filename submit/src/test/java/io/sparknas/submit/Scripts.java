package io.sparknas.submit;

import java.util.stream.Stream;
import java.util.Map;
import java.util.Arrays;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the project's scripts as a user would, from the project root, without a Spark installation. */
final class Scripts {

    /** Exit status, standard output and standard error of one script run. */
    record Run(int status, String out, String err) {
        String lastErrLine() {
            String[] lines = err.strip().split("\n");
            return lines[lines.length - 1];
        }

        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + out + "\n--- stderr (tail)\n" + tail(err, 40);
        }
    }

    private Scripts() {
    }

    /**
     * Copies a committed stage directory (e.g. a run's ingest) into another run, so that run reads the same stage without
     * running it again: the pipeline then skips it as committed with the same configuration.
     */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t);
                }
            }
        }
    }

    static Path projectRoot() {
        String p = System.getProperty("nas.test.project.root");
        return p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
    }

    /** Starts a script without waiting (output to the given files). */
    static Process start(String script, File out, File err, String... args) throws IOException {
        return start(Map.of(), script, out, err, args);
    }

    /** {@link #start} with extra environment variables (e.g. NAS_SUBMIT_ARGS). */
    static Process start(Map<String, String> env, String script, File out, File err, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(projectRoot().resolve(script).toString());
        cmd.addAll(List.of(args));
        return start(new ProcessBuilder(cmd), env, out, err);
    }

    /** Starts a process from the project root with the environment every test run uses (no SPARK_HOME, 127.0.0.1). */
    private static Process start(ProcessBuilder pb, Map<String, String> env, File out, File err) throws IOException {
        pb.directory(projectRoot().toFile());
        pb.environment().remove("SPARK_HOME");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("NAS_DRIVER_MEMORY", "3g");
        pb.environment().putAll(env);
        return pb.redirectOutput(out).redirectError(err).start();
    }

    /** Starts a bash command line (e.g. an Airflow task's bash_command) from the project root, as {@link #start} does a script. */
    static Process startCommand(Map<String, String> env, String commandLine, File out, File err) throws IOException {
        return start(new ProcessBuilder("bash", "-c", commandLine), env, out, err);
    }

    /**
     * Waits for a started script or stage; on timeout kills the process and everything it started (the stage JVM, its
     * children) and fails naming what did not end.
     */
    static void awaitOrKill(Process p, long minutes, String what) throws InterruptedException {
        if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError(what + " did not end in " + minutes + " minutes; killed it and the processes it started");
        }
    }

    /** Runs a bash command line to its end (at most 10 minutes). */
    static Run runCommand(Map<String, String> env, String commandLine) throws IOException, InterruptedException {
        File out = Files.createTempFile("nas-out", ".txt").toFile();
        File err = Files.createTempFile("nas-err", ".txt").toFile();
        Process p = startCommand(env, commandLine, out, err);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new IllegalStateException(commandLine + " did not finish in 10 minutes:\n" + tail(Files.readString(err.toPath()), 30));
        }
        return new Run(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8), Files.readString(err.toPath(), StandardCharsets.UTF_8));
    }

    static Run run(String script, String... args) throws IOException, InterruptedException {
        return run(Map.of(), script, args);
    }

    /**
     * Runs a script and waits for it: a whole pipeline at most 30 minutes, any other script at most 10 (measured: a
     * tiny-preset pipeline takes 6-10 minutes on 2 cores, a stage or a query well under one).
     */
    static Run run(Map<String, String> env, String script, String... args) throws IOException, InterruptedException {
        int minutes = script.endsWith("pipeline.sh") ? 30 : 10;
        File out = Files.createTempFile("nas-out", ".txt").toFile();
        File err = Files.createTempFile("nas-err", ".txt").toFile();
        Process p = start(env, script, out, err, args);
        if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
            // the stage JVM (the script exec's into spark-submit, which may fork) and the script itself
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new IllegalStateException(script + " did not finish in " + minutes + " minutes:\n--- stdout (tail)\n"
                    + tail(Files.readString(out.toPath(), StandardCharsets.UTF_8), 30) + "\n--- stderr (tail)\n"
                    + tail(Files.readString(err.toPath(), StandardCharsets.UTF_8), 30));
        }
        return new Run(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8), Files.readString(err.toPath(), StandardCharsets.UTF_8));
    }

    static String tail(String s, int lines) {
        String[] l = s.split("\n");
        return String.join("\n", Arrays.copyOfRange(l, Math.max(0, l.length - lines), l.length));
    }
}
