package io.sparknas.submit;

import java.net.InetAddress;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Spark standalone master and worker on 127.0.0.1, each in its own JVM, started from the project's resolved jars (no Spark
 * installation: a SPARK_HOME whose {@code jars/} links every jar of {@code submit/target/spark-classpath.txt}, as
 * PLATFORM-NOTES describes). The worker launches real executor JVMs for the applications submitted to {@link #url()}.
 */
final class StandaloneCluster implements AutoCloseable {

    private final Process master;
    private final Process worker;
    private final String url;
    private final Path logs;
    private final Path work;

    private StandaloneCluster(Process master, Process worker, String url, Path logs, Path work) {
        this.master = master;
        this.worker = worker;
        this.url = url;
        this.logs = logs;
        this.work = work;
    }

    /** Starts a master and one worker offering {@code cores} cores and {@code memory} (e.g. "6g") under {@code dir}. */
    static StandaloneCluster start(Path dir, int cores, String memory) throws Exception {
        Path home = dir.resolve("spark-home");
        Path jars = Files.createDirectories(home.resolve("jars"));
        String cp = Files.readString(Scripts.projectRoot().resolve("submit/target/spark-classpath.txt"), StandardCharsets.UTF_8).strip();
        for (String jar : cp.split(File.pathSeparator)) {
            Path src = Path.of(jar);
            Path link = jars.resolve(src.getFileName());
            if (!Files.exists(link)) {
                Files.createSymbolicLink(link, src);
            }
        }
        Files.createDirectories(home.resolve("conf"));
        Path logs = Files.createDirectories(dir.resolve("logs"));
        int port = freePort();
        String url = "spark://127.0.0.1:" + port;
        Process master = java(home, logs.resolve("master.log"), cp, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", String.valueOf(port), "--webui-port", String.valueOf(freePort()));
        await(master, logs.resolve("master.log"), "I have been elected leader");
        Path work = Files.createDirectories(dir.resolve("work"));
        Process worker = java(home, logs.resolve("worker.log"), cp, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                "--cores", String.valueOf(cores), "--memory", memory, "--webui-port", String.valueOf(freePort()),
                "--work-dir", work.toString(), url);
        await(worker, logs.resolve("worker.log"), "Successfully registered with master");
        return new StandaloneCluster(master, worker, url, logs, work);
    }

    String url() {
        return url;
    }

    /** The worker's log (executor launches, exits). */
    String workerLog() throws IOException {
        return Files.readString(logs.resolve("worker.log"));
    }

    /** The executor JVMs the worker runs now (children of the worker process). */
    List<ProcessHandle> executors() {
        return worker.toHandle().descendants().filter(h -> commandLine(h).contains("CoarseGrainedExecutorBackend")).toList();
    }

    /**
     * Whether an executor of {@link #executors()} runs a task now: its log (the worker keeps it as
     * {@code work/<app id>/<executor id>/stderr}) shows more tasks started than finished.
     */
    boolean runsATask(ProcessHandle executor) throws IOException {
        String[] args = commandLine(executor).split("\0");
        String app = null;
        String id = null;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--app-id")) {
                app = args[i + 1];
            } else if (args[i].equals("--executor-id")) {
                id = args[i + 1];
            }
        }
        if (app == null || id == null) {
            return false;
        }
        Path log = work.resolve(app).resolve(id).resolve("stderr");
        if (!Files.exists(log)) {
            return false;
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        return count(text, "Executor: Running task ") > count(text, "Executor: Finished task ");
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    private static String commandLine(ProcessHandle h) {
        try {
            return Files.readString(Path.of("/proc", String.valueOf(h.pid()), "cmdline"), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return h.info().commandLine().orElse("");
        }
    }

    private static Process java(Path home, Path log, String cp, String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(Files.readString(Scripts.projectRoot().resolve("jobs/target/launcher/jvm-opens.txt")).strip().split("\\s+")));
        cmd.addAll(List.of("-Xmx512m", "-cp", cp, main));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.12");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_LOCAL_DIRS", home.resolve("local").toString());
        return pb.start();
    }

    private static void await(Process p, Path log, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(line)) {
                return;
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(200);
        }
        String text = Files.exists(log) ? Files.readString(log) : "(no log)";
        p.destroyForcibly();
        throw new IllegalStateException("'" + line + "' not seen in " + log + ":\n" + Scripts.tail(text, 30));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        worker.destroy();
        master.destroy();
        try {
            worker.waitFor(20, TimeUnit.SECONDS);
            master.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        worker.destroyForcibly();
        master.destroyForcibly();
    }
}
