package io.sparknas.submit;

import java.net.InetAddress;
import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server for the tests: s3proxy 2.7.0 in its own JVM on 127.0.0.1 (its classpath resolved by
 * submit/s3proxy), filesystem backend under a directory (a bucket is a folder there), random credentials per instance.
 * It can be stopped and started again on the same port and data, as an object store that goes away and comes back.
 * One class of the filesystem backend is replaced (submit/s3proxy's {@code org.jclouds.filesystem.util.Utils}, first on
 * the server's class path): deleting a directory marker over a non-empty directory returns at once, as on S3, where
 * jclouds sleeps ten seconds first; each committed Spark write through S3A deleted several such markers.
 */
final class S3Server implements AutoCloseable {

    final String identity = "AKIA" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase();
    final String credential = UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    final Path data;
    final int port;
    private final Path properties;
    private final File log;
    private final Path logback;
    private Process process;

    S3Server(Path dir) throws IOException {
        data = Files.createDirectories(dir.resolve("s3-data"));
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        properties = dir.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + identity,
                "s3proxy.credential=" + credential,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + data) + "\n");
        log = dir.resolve("s3proxy.log").toFile();
        // s3proxy's jar carries no logback configuration, and logback's default logs every Jetty event at DEBUG (over
        // 100 MB and most of the server's CPU time during one small stage): warnings only
        logback = dir.resolve("s3proxy-logback.xml");
        Files.writeString(logback, "<configuration><appender name=\"err\" class=\"ch.qos.logback.core.ConsoleAppender\"><encoder>"
                + "<pattern>%d{HH:mm:ss.SSS} %-5level %logger - %msg%n</pattern></encoder></appender>"
                + "<root level=\"WARN\"><appender-ref ref=\"err\"/></root></configuration>\n");
    }

    /** Creates a bucket (S3A does not): with the filesystem backend, a folder. */
    Path bucket(String name) throws IOException {
        return Files.createDirectories(data.resolve(name));
    }

    void start() throws Exception {
        Path cp = Scripts.projectRoot().resolve("submit/s3proxy/target/s3proxy-classpath.txt");
        if (!Files.isRegularFile(cp)) {
            throw new IllegalStateException(cp + " is missing: build the project (mvn -B -q package -DskipTests) first");
        }
        // without the replaced backend class the server still works, but every S3A commit stalls 10 s per directory marker
        Path replaced = Scripts.projectRoot().resolve("submit/s3proxy/target/classes/org/jclouds/filesystem/util/Utils.class");
        if (!Files.isRegularFile(replaced)) {
            throw new IllegalStateException(replaced + " is missing: build submit/s3proxy (mvn -B -q package -DskipTests) first");
        }
        process = new ProcessBuilder(List.of("java", "-Xmx512m", "-Dlogback.configurationFile=" + logback, "-cp",
                Scripts.projectRoot().resolve("submit/s3proxy/target/classes").toString() + File.pathSeparator + Files.readString(cp).strip(),
                "org.gaul.s3proxy.Main", "--properties", properties.toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("s3proxy exited with " + process.exitValue() + ":\n" + Files.readString(log.toPath(), StandardCharsets.UTF_8));
            }
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/").toURL().openConnection();
                c.setConnectTimeout(500);
                if (c.getResponseCode() > 0) {
                    return;
                }
            } catch (IOException notYet) {
                Thread.sleep(250);
            }
        }
        throw new IllegalStateException("s3proxy did not answer on port " + port + " within 60 s");
    }

    void stop() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            process = null;
        }
    }

    /** The credentials, as the environment hands them to S3A's provider chain. */
    Map<String, String> credentialsEnv() {
        return Map.of("AWS_ACCESS_KEY_ID", identity, "AWS_SECRET_ACCESS_KEY", credential);
    }

    /** spark-submit options pointing S3A at this server (no credentials among them). */
    String sparkConf() {
        return String.join(" ", "--conf spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:" + port,
                "--conf spark.hadoop.fs.s3a.path.style.access=true", "--conf spark.hadoop.fs.s3a.endpoint.region=us-east-1",
                "--conf spark.hadoop.fs.s3a.connection.ssl.enabled=false", "--conf spark.hadoop.fs.s3a.directory.marker.retention=keep");
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
