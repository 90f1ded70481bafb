package io.sparknas.jobs.launch;

import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.JobEnvironment;
import java.util.stream.Stream;
import java.util.Map;
import java.util.List;
import java.util.Comparator;
import io.sparknas.jobs.config.NasConfig;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What every stage launch does before its own work - resolve the configuration, start a local Spark session, load the
 * ND4J backend, write and read a Parquet table, run a job on an RDD - so that the build's class-data archive
 * ({@code submit/class-data-archive}, run with {@code -XX:ArchiveClassesAtExit}) holds the classes a launch loads. Not a
 * stage: it writes nothing but a temporary directory, which it removes.
 */
public final class ClassDataWarmup {

    private ClassDataWarmup() {
    }

    public static void main(String[] args) throws Exception {
        NasConfig.renderForLog(NasConfig.load(null, Map.of()));
        Path dir = Files.createTempDirectory("spark-nas-warmup");
        SparkSession spark = SparkSession.builder().appName("spark-nas class-data warm-up").master("local[1]").getOrCreate();
        try {
            SparkJobLabel.set(spark, "warm-up", "class-data archive");
            System.out.println(JobEnvironment.backend().summary());
            String table = dir.resolve("t").toUri().toString();
            spark.range(64).withColumn("pixels", functions.expr("unhex(sha2(cast(id as string), 256))"))
                    .withColumn("label", functions.expr("cast(id % 10 as int)")).write().parquet(table);
            Dataset<Row> back = spark.read().parquet(table);
            long n = back.where("label < 5").groupBy("label").count().collectAsList().size()
                    + back.javaRDD().mapPartitions(it -> List.of(it.hasNext() ? 1 : 0).iterator()).count();
            System.out.println("warm-up: " + n);
        } finally {
            spark.stop();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
