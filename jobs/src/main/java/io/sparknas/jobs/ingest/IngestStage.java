package io.sparknas.jobs.ingest;

import io.sparknas.jobs.data.HadoopConfSnapshot;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.artifact.IngestOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Ingest: IDX files (MNIST, Fashion-MNIST) or an ImageNet-layout tree to the tables {@code images}, {@code classes}, {@code rejects}.
 *
 * <p>Flow: a manifest of small rows (split, class, id, path) is built on the executors (IDX labels are read there;
 * class folders are listed there); images are decoded and resized on the executors, never on the driver;
 * the search {@code val} split is {@code nas.ingest.val-per-class} usable train images per class, chosen by a seeded hash
 * order ({@code xxhash64(seed, id)}) that does not depend on partitioning; the original test/validation set becomes {@code test}.
 * The ranks are computed on pixel-free rows; the decoded rows take their split from each class's cut-off keys (a table of
 * at most three rows a class, broadcast), so the pixels cross one shuffle, into their buckets, whatever the image count.
 *
 * <p>Layout: {@code images/split=S/bucket=B/} holds one Parquet file per split and hash bucket of the image ids
 * ({@code nas.ingest.buckets}), its rows in position order {@code pos = 0, 1, ...} (a seeded hash order, so any run of
 * positions mixes the classes), with row groups of about {@code nas.ingest.row-group-images} images. Worker w of W reads
 * the buckets {@code b mod W = w} straight from their files ({@link ImageSplits}), so no later stage shuffles pixels.
 */
public final class IngestStage {

    private static final Logger LOG = LoggerFactory.getLogger(IngestStage.class);

    private IngestStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(IngestOutputs.STAGE, args, Set.of(), false, IngestSettings::from, IngestStage::run);
    }

    public static IngestResult run(IngestSettings s, SparkSession spark) {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        RunStore store = new RunStore(s.run().root(), s.run().runId(), hconf);
        IngestSource source = IngestSource.open(s, spark);
        StageCommit commit = StageCommit.begin(store, s.run(), IngestOutputs.STAGE, 0,
                NasConfig.hash(s.run().config(), List.of(IngestSettings.SECTION)), s.seed(), source.inputs);
        if (commit.skipped()) {
            return IngestResult.read(spark, store, commit.existing(), true);
        }
        try {
            StageRecord record = ingest(s, spark, source, commit);
            return IngestResult.read(spark, store, record, false);
        } catch (RuntimeException e) {
            commit.abort(e);
            throw e;
        }
    }

    private static StageRecord ingest(IngestSettings s, SparkSession spark, IngestSource source, StageCommit commit) {
        long t0 = System.nanoTime();
        Dataset<Row> manifest = source.manifest.persist(StorageLevel.MEMORY_AND_DISK());
        Dataset<Row> listed = manifest.where(col("reason").isNull());
        Dataset<Row> listRejects = manifest.where(col("reason").isNotNull()).select("path", "reason");
        SparkJobLabel.set(spark, IngestOutputs.STAGE, "listing " + s.source());
        long listedCount = listed.count();
        if (listedCount == 0) {
            throw new InputDataException("Input " + s.source() + " holds no image files (" + listRejects.count()
                    + " other files; see the extensions in nas.ingest.image-extensions).");
        }
        int parallelism = spark.sparkContext().defaultParallelism();
        int partitions = s.partitions() > 0 ? s.partitions()
                : source.idx ? Math.max(2, parallelism) : (int) Math.max(parallelism, Math.ceil(listedCount / 2000.0));
        LOG.info("ingest: {} image entries from {} ({}), decoding in {} partitions to {}x{}x{} ({})", listedCount, s.source(),
                source.idx ? "IDX" : "folders", partitions, s.resolution(), s.resolution(), s.channels(), s.resizeMode());
        // IDX: each task streams a file forward, so give it a sorted range of one file.
        Dataset<Row> ordered = source.idx
                ? listed.repartitionByRange(partitions, col("path"), col("offset")).sortWithinPartitions("path", "offset")
                : listed.repartition(partitions);
        ImageResizer resizer = new ImageResizer(s.resolution(), s.channels(), s.resizeMode());
        Dataset<Row> decoded = ordered.mapPartitions(new ImageDecoder(resizer, new HadoopConfSnapshot(spark.sparkContext().hadoopConfiguration())),
                Encoders.row(ImageDecoder.DECODED)).persist(StorageLevel.MEMORY_AND_DISK());

        SparkJobLabel.set(spark, IngestOutputs.STAGE, "decoding " + listedCount + " images in " + partitions + " partitions");
        Dataset<Row> usable = decoded.where(col("reason").isNull()).select("src_split", "class_index", "id");
        Map<String, Map<Integer, Long>> usableCounts = countBy(usable.groupBy("src_split", "class_index").count().collectAsList());
        LOG.info("ingest: decoded in {} s; usable per source split: {}", seconds(t0), totals(usableCounts));
        checkRejects(s, usableCounts, listRejects.union(decoded.where(col("reason").isNotNull()).select("path", "reason")));
        List<String> names = source.classNames(s, usableCounts);
        checkClasses(s, source, names, usableCounts);

        // The split rule: per source split and class, images ranked by a seeded hash of the id (then the id); the first
        // val-per-class of train are val, the next train-per-class (0: all) train; the first test-per-class (0: all) of
        // test. Ranks are computed on the pixel-free rows; the pixel rows learn their split from each class's cut-off keys
        // (at most three rows a class, broadcast), never from a join of every id: at ImageNet's 1.33 M ids that join's
        // broadcast did not fit a 2 GB driver (issue 36, submit/bench-ingest-count.sh).
        Column key = xxhash64(lit(s.seed()), col("id"));
        Dataset<Row> ranked = usable.withColumn("h", key)
                .withColumn("rank", row_number().over(Window.partitionBy("src_split", "class_index").orderBy(col("h"), col("id"))))
                .persist(StorageLevel.MEMORY_AND_DISK());
        Column rank = col("rank");
        Column fromTest = col("src_split").equalTo("test");
        Column split = when(fromTest, when(lit(s.testPerClass() == 0).or(rank.leq(s.testPerClass())), lit("test")))
                .otherwise(when(rank.leq(s.valPerClass()), lit("val"))
                        .when(lit(s.trainPerClass() == 0).or(rank.leq((long) s.valPerClass() + s.trainPerClass())), lit("train")));
        Map<String, Map<Integer, Long>> splitCounts = countBy(ranked.withColumn("split", split).where(col("split").isNotNull())
                .groupBy("split", "class_index").count().collectAsList());
        long trainCut = (long) s.valPerClass() + s.trainPerClass();
        Column atVal = fromTest.equalTo(false).and(rank.equalTo(s.valPerClass()));
        Column atTrain = fromTest.equalTo(false).and(lit(s.trainPerClass() > 0)).and(rank.equalTo(trainCut));
        Column atTest = fromTest.and(lit(s.testPerClass() > 0)).and(rank.equalTo(s.testPerClass()));
        Dataset<Row> cuts = ranked.where(atVal.or(atTrain).or(atTest))
                .groupBy(col("src_split").as("cut_split"), col("class_index").as("cut_class"))
                .agg(max(when(atVal, col("h"))).as("val_h"), max(when(atVal, col("id"))).as("val_id"),
                        max(when(atTrain, col("h"))).as("train_h"), max(when(atTrain, col("id"))).as("train_id"),
                        max(when(atTest, col("h"))).as("test_h"), max(when(atTest, col("id"))).as("test_id"));
        Column pixelSplit = when(fromTest, when(lit(s.testPerClass() == 0).or(upToCut("test")), lit("test")))
                .otherwise(when(lit(s.valPerClass() > 0).and(upToCut("val")), lit("val"))
                        .when(lit(s.trainPerClass() == 0).or(upToCut("train")), lit("train")));

        // the one pixel shuffle of a run: every (split, bucket) to one task, its rows in position order, one file each
        int files = splitCounts.size() * s.buckets();
        Dataset<Row> pixels = decoded.where(col("reason").isNull()).withColumn("h", key);
        Dataset<Row> byBucket = pixels
                .join(broadcast(cuts), pixels.col("src_split").equalTo(cuts.col("cut_split"))
                        .and(pixels.col("class_index").equalTo(cuts.col("cut_class"))), "left")
                .withColumn("split", pixelSplit)
                .where(col("split").isNotNull())
                .withColumn("bucket", ImageSplits.bucketOf(col("id"), s.buckets()))
                .withColumn("part", ImageSplits.partColumn(col("id")))
                .select("split", "bucket", "class_index", "part", "id", "height", "width", "channels", "pixels")
                .repartition(Math.min(files, Math.max(partitions, spark.sparkContext().defaultParallelism())), col("split"), col("bucket"))
                .sortWithinPartitions(col("split"), col("bucket"), ImageSplits.orderInBucket(col("id"), s.seed()), col("id"));
        StructType written = BucketPositions.schema(byBucket.schema());
        // positions counted while streaming each sorted bucket; the writer's own sort on (split, bucket) is not stable,
        // so the rows are put in (split, bucket, pos) order explicitly (a local sort of sorted rows, no shuffle)
        Dataset<Row> images = byBucket.mapPartitions(new BucketPositions(), Encoders.row(written))
                .sortWithinPartitions("split", "bucket", "pos");
        SparkJobLabel.set(spark, IngestOutputs.STAGE, "writing images in " + files + " bucket files, classes and rejects");
        long imageBytes = (long) s.resolution() * s.resolution() * s.channels();
        images.write().option("parquet.block.size", String.valueOf(Math.max(64 * 1024, s.rowGroupImages() * (imageBytes + 64))))
                .partitionBy("split", "bucket").parquet(commit.tableUri(IngestOutputs.IMAGES));
        ranked.unpersist();
        long imageRows = splitCounts.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
        commit.addTable(IngestOutputs.IMAGES, imageRows, IngestOutputs.SCHEMA_VERSION, List.of("split", "bucket"));
        commit.putProperty(IngestOutputs.BUCKETS_PROPERTY, String.valueOf(s.buckets()));
        LOG.info("ingest: wrote {} images ({}) in {} s", imageRows, totals(splitCounts), seconds(t0));

        List<Row> classRows = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
            classRows.add(RowFactory.create(k, names.get(k), count(splitCounts, "train", k), count(splitCounts, "val", k),
                    count(splitCounts, "test", k)));
        }
        spark.createDataFrame(classRows, IngestOutputs.CLASSES_SCHEMA).coalesce(1).write().parquet(commit.tableUri(IngestOutputs.CLASSES));
        commit.addTable(IngestOutputs.CLASSES, classRows.size(), IngestOutputs.SCHEMA_VERSION, List.of());

        Dataset<Row> rejects = listRejects.union(decoded.where(col("reason").isNotNull()).select("path", "reason"));
        rejects.coalesce(1).write().parquet(commit.tableUri(IngestOutputs.REJECTS));
        long rejectRows = spark.read().parquet(commit.tableUri(IngestOutputs.REJECTS)).count();
        commit.addTable(IngestOutputs.REJECTS, rejectRows, IngestOutputs.SCHEMA_VERSION, List.of());
        if (rejectRows > 0) {
            LOG.warn("ingest: {} files rejected (see table {}_{})", rejectRows, IngestOutputs.STAGE, IngestOutputs.REJECTS);
        }
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        decoded.unpersist();
        manifest.unpersist();
        LOG.info("ingest: done in {} s", seconds(t0));
        return record;
    }

    /** The row's (hash, id) is at most the class's cut-off key of that name; no cut-off: the class has fewer rows. */
    private static Column upToCut(String cut) {
        Column h = col(cut + "_h");
        return h.isNull().or(col("h").lt(h)).or(col("h").equalTo(h).and(col("id").leq(col(cut + "_id"))));
    }

    /**
     * Stops the stage (nothing committed) when more of the image files than {@code nas.ingest.max-reject-fraction} were
     * rejected (undecodable, unlabelled, of an unknown class): a folder of corrupt files is an input problem, not a warning.
     * Files that are not images by their extension are listed in {@code rejects} but not counted.
     */
    private static void checkRejects(IngestSettings s, Map<String, Map<Integer, Long>> usable, Dataset<Row> rejects) {
        Dataset<Row> failed = rejects.where(not(col("reason").startsWith(IngestSource.NOT_AN_IMAGE)));
        long bad = failed.count();
        long good = usable.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
        double fraction = bad == 0 ? 0 : bad / (double) (bad + good);
        if (fraction > s.maxRejectFraction()) {
            List<String> first = failed.orderBy("path").limit(5).collectAsList().stream()
                    .map(r -> r.getString(0) + " (" + r.getString(1) + ")").toList();
            throw new InputDataException(String.format(Locale.ROOT, "ingest: %d of %d image files (%.1f%%) were rejected, above "
                    + "nas.ingest.max-reject-fraction = %s. The first: %s. Fix or remove those files, or raise nas.ingest.max-reject-fraction "
                    + "(1 accepts any).", bad, bad + good, 100 * fraction, s.maxRejectFraction(), String.join("; ", first)));
        }
    }

    private static void checkClasses(IngestSettings s, IngestSource source, List<String> names, Map<String, Map<Integer, Long>> usable) {
        Map<Integer, Long> train = usable.getOrDefault("train", Map.of());
        for (int k = 0; k < names.size(); k++) {
            long n = train.getOrDefault(k, 0L);
            String where = source.classLocation(names.get(k));
            if (n == 0) {
                throw new InputDataException("Class '" + names.get(k) + "' (index " + k + ") has no usable training images at " + where
                        + ". Remove the class folder or add images.");
            }
            if (n <= s.valPerClass()) {
                throw new InputDataException("Class '" + names.get(k) + "' (index " + k + ") has only " + n + " usable training images at "
                        + where + ", and nas.ingest.val-per-class = " + s.valPerClass() + " would hold out all of them. "
                        + "Lower nas.ingest.val-per-class or add images.");
            }
        }
    }

    private static Map<String, Map<Integer, Long>> countBy(List<Row> rows) {
        Map<String, Map<Integer, Long>> m = new TreeMap<>();
        for (Row r : rows) {
            m.computeIfAbsent(r.getString(0), x -> new TreeMap<>()).put(r.getInt(1), r.getLong(2));
        }
        return m;
    }

    private static long count(Map<String, Map<Integer, Long>> m, String split, int k) {
        return m.getOrDefault(split, Map.of()).getOrDefault(k, 0L);
    }

    private static Map<String, Long> totals(Map<String, Map<Integer, Long>> m) {
        Map<String, Long> t = new TreeMap<>();
        m.forEach((k, v) -> t.put(k, v.values().stream().mapToLong(Long::longValue).sum()));
        return t;
    }

    private static String seconds(long t0) {
        return String.format("%.1f", (System.nanoTime() - t0) / 1e9);
    }
}
