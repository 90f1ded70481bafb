package io.sparknas.jobs.ingest;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Ingest: IDX files (MNIST, Fashion-MNIST) or an ImageNet-layout tree to the tables {@code images}, {@code classes}, {@code rejects}.
 *
 * <p>Flow: a manifest of small rows (split, class, id, path) is built on the executors (IDX labels are read there;
 * folders are listed by Spark's file index); images are decoded and resized on the executors, never on the driver;
 * the search {@code val} split is {@code nas.ingest.val-per-class} usable train images per class, chosen by a seeded hash
 * order ({@code xxhash64(seed, id)}) that does not depend on partitioning; the original test/validation set becomes {@code test}.
 * Only the (id, split) assignment, not the pixels, crosses a shuffle: it is broadcast back to the decoded rows.
 */
public final class IngestStage {

    public static final String STAGE = "ingest";
    public static final String IMAGES = "images";
    public static final String CLASSES = "classes";
    public static final String REJECTS = "rejects";
    public static final int SCHEMA_VERSION = io.sparknas.jobs.store.SchemaVersions.of("ingest");

    private static final Logger LOG = LoggerFactory.getLogger(IngestStage.class);

    static final StructType MANIFEST = new StructType()
            .add("src_split", DataTypes.StringType, false)
            .add("class_index", DataTypes.IntegerType, false)
            .add("id", DataTypes.StringType, false)
            .add("path", DataTypes.StringType, false)
            .add("offset", DataTypes.LongType, false)
            .add("reason", DataTypes.StringType, true);

    static final StructType DECODED = new StructType()
            .add("src_split", DataTypes.StringType, false)
            .add("class_index", DataTypes.IntegerType, false)
            .add("id", DataTypes.StringType, false)
            .add("path", DataTypes.StringType, false)
            .add("height", DataTypes.IntegerType, false)
            .add("width", DataTypes.IntegerType, false)
            .add("channels", DataTypes.IntegerType, false)
            .add("pixels", DataTypes.BinaryType, true)
            .add("reason", DataTypes.StringType, true);

    static final StructType CLASSES_SCHEMA = new StructType()
            .add("index", DataTypes.IntegerType, false)
            .add("name", DataTypes.StringType, false)
            .add("train", DataTypes.LongType, false)
            .add("val", DataTypes.LongType, false)
            .add("test", DataTypes.LongType, false);

    private IngestStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(STAGE, args, Set.of(), false, IngestSettings::from, IngestStage::run);
    }

    public static IngestResult run(IngestSettings s, SparkSession spark) {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        RunStore store = new RunStore(s.run().root(), s.run().runId(), hconf);
        Source source = Source.open(s, spark);
        StageCommit commit = StageCommit.begin(store, s.run(), STAGE, 0,
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

    private static StageRecord ingest(IngestSettings s, SparkSession spark, Source source, StageCommit commit) {
        long t0 = System.nanoTime();
        Dataset<Row> manifest = source.manifest.persist(StorageLevel.MEMORY_AND_DISK());
        Dataset<Row> listed = manifest.where(col("reason").isNull());
        Dataset<Row> listRejects = manifest.where(col("reason").isNotNull()).select("path", "reason");
        SparkJobLabel.set(spark, STAGE, "listing " + s.source());
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
        Dataset<Row> decoded = ordered.mapPartitions(new Decode(resizer, new HadoopConfSnapshot(spark.sparkContext().hadoopConfiguration())),
                Encoders.row(DECODED)).persist(StorageLevel.MEMORY_AND_DISK());

        SparkJobLabel.set(spark, STAGE, "decoding " + listedCount + " images in " + partitions + " partitions");
        Dataset<Row> usable = decoded.where(col("reason").isNull()).select("src_split", "class_index", "id");
        Map<String, Map<Integer, Long>> usableCounts = countBy(usable.groupBy("src_split", "class_index").count().collectAsList());
        LOG.info("ingest: decoded in {} s; usable per source split: {}", seconds(t0), totals(usableCounts));
        List<String> names = source.classNames(s, usableCounts);
        checkClasses(s, source, names, usableCounts);

        Column rank = col("rank");
        Column split = when(col("src_split").equalTo("test"),
                when(lit(s.testPerClass() == 0).or(rank.leq(s.testPerClass())), lit("test")))
                .otherwise(when(rank.leq(s.valPerClass()), lit("val"))
                        .when(lit(s.trainPerClass() == 0).or(rank.leq((long) s.valPerClass() + s.trainPerClass())), lit("train")));
        Dataset<Row> assignment = usable
                .withColumn("rank", row_number().over(Window.partitionBy("src_split", "class_index")
                        .orderBy(xxhash64(lit(s.seed()), col("id")), col("id"))))
                .withColumn("split", split)
                .where(col("split").isNotNull())
                .select("id", "split", "class_index")
                .persist(StorageLevel.MEMORY_AND_DISK());
        Map<String, Map<Integer, Long>> splitCounts = countBy(assignment.groupBy("split", "class_index").count().collectAsList());

        Dataset<Row> images = decoded.where(col("reason").isNull())
                .join(broadcast(assignment.select("id", "split")), "id")
                .select("split", "class_index", "id", "height", "width", "channels", "pixels");
        SparkJobLabel.set(spark, STAGE, "writing images, classes and rejects");
        images.write().partitionBy("split").parquet(commit.tableUri(IMAGES));
        long imageRows = splitCounts.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
        commit.addTable(IMAGES, imageRows, SCHEMA_VERSION, List.of("split"));
        LOG.info("ingest: wrote {} images ({}) in {} s", imageRows, totals(splitCounts), seconds(t0));

        List<Row> classRows = new ArrayList<>();
        for (int k = 0; k < names.size(); k++) {
            classRows.add(RowFactory.create(k, names.get(k), count(splitCounts, "train", k), count(splitCounts, "val", k),
                    count(splitCounts, "test", k)));
        }
        spark.createDataFrame(classRows, CLASSES_SCHEMA).coalesce(1).write().parquet(commit.tableUri(CLASSES));
        commit.addTable(CLASSES, classRows.size(), SCHEMA_VERSION, List.of());

        Dataset<Row> rejects = listRejects.union(decoded.where(col("reason").isNotNull()).select("path", "reason"));
        rejects.coalesce(1).write().parquet(commit.tableUri(REJECTS));
        long rejectRows = spark.read().parquet(commit.tableUri(REJECTS)).count();
        commit.addTable(REJECTS, rejectRows, SCHEMA_VERSION, List.of());
        if (rejectRows > 0) {
            LOG.warn("ingest: {} files rejected (see table {}_{})", rejectRows, STAGE, REJECTS);
        }
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        assignment.unpersist();
        decoded.unpersist();
        manifest.unpersist();
        LOG.info("ingest: done in {} s", seconds(t0));
        return record;
    }

    private static void checkClasses(IngestSettings s, Source source, List<String> names, Map<String, Map<Integer, Long>> usable) {
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

    /** What the input is: IDX files or folders, with its manifest (built lazily on executors) and fingerprint. */
    private static final class Source {
        final boolean idx;
        final List<StageRecord.Input> inputs;
        final Dataset<Row> manifest;
        final List<String> folderClasses;
        final String location;

        private Source(boolean idx, List<StageRecord.Input> inputs, Dataset<Row> manifest, List<String> folderClasses, String location) {
            this.idx = idx;
            this.inputs = inputs;
            this.manifest = manifest;
            this.folderClasses = folderClasses;
            this.location = location;
        }

        static Source open(IngestSettings s, SparkSession spark) {
            Configuration hconf = spark.sparkContext().hadoopConfiguration();
            Path root = new Path(s.source());
            try {
                FileSystem fs = root.getFileSystem(hconf);
                root = fs.makeQualified(root);
                if (!fs.exists(root)) {
                    throw new InputDataException("nas.ingest.source " + root + " does not exist.");
                }
                Path train = new Path(root, "train");
                String format = s.format();
                if (format.equals("auto")) {
                    if (fs.isDirectory(train)) {
                        format = "folders";
                    } else if (findIdx(fs, root, s.idxNames().get(0)) != null) {
                        format = "idx";
                    } else {
                        throw new InputDataException("nas.ingest.source " + root + " has neither a train/ folder (ImageNet layout: train/<class>/*) "
                                + "nor IDX files (" + s.idxNames().get(0) + "[.gz]). Point it at one of those, or set nas.ingest.format.");
                    }
                }
                return format.equals("idx") ? openIdx(s, spark, fs, root) : openFolders(s, spark, fs, root);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read nas.ingest.source " + root + ": " + e.getMessage(), e);
            }
        }

        private static Path findIdx(FileSystem fs, Path root, String name) throws IOException {
            for (String n : List.of(name, name + ".gz")) {
                Path p = new Path(root, n);
                if (fs.isFile(p)) {
                    return p;
                }
            }
            return null;
        }

        private static StageRecord.Input fileInput(FileSystem fs, String id, Path p) throws IOException {
            FileStatus st = fs.getFileStatus(p);
            return new StageRecord.Input(id, p.toString(), NasConfig.sha256(p + "|" + st.getLen() + "|" + st.getModificationTime()));
        }

        private static Source openIdx(IngestSettings s, SparkSession spark, FileSystem fs, Path root) throws IOException {
            String[] ids = {"train-images", "train-labels", "test-images", "test-labels"};
            Path[] files = new Path[4];
            List<StageRecord.Input> inputs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                files[i] = findIdx(fs, root, s.idxNames().get(i));
                if (files[i] == null) {
                    throw new InputDataException("IDX file " + new Path(root, s.idxNames().get(i)) + "[.gz] is missing (key nas.ingest.idx."
                            + ids[i] + ").");
                }
                inputs.add(fileInput(fs, "source:" + ids[i], files[i]));
            }
            List<Row> pairs = List.of(RowFactory.create("train", files[1].toString(), files[0].toString()),
                    RowFactory.create("test", files[3].toString(), files[2].toString()));
            StructType pairSchema = new StructType().add("src_split", DataTypes.StringType).add("labels", DataTypes.StringType)
                    .add("images", DataTypes.StringType);
            Dataset<Row> manifest = spark.createDataFrame(pairs, pairSchema).repartition(2)
                    .flatMap(new IdxEntries(new HadoopConfSnapshot(fs.getConf())), Encoders.row(MANIFEST));
            return new Source(true, inputs, manifest, null, root.toString());
        }

        private static Source openFolders(IngestSettings s, SparkSession spark, FileSystem fs, Path root) throws IOException {
            Path train = new Path(root, "train");
            Path val = new Path(root, "val");
            if (!fs.isDirectory(train)) {
                throw new InputDataException("Missing train folder " + train + " (ImageNet layout: train/<class>/*).");
            }
            if (!fs.isDirectory(val)) {
                throw new InputDataException("Missing val folder " + val + " (its images become the test split): add val/<class>/* "
                        + "or a flat val/ with a label file (nas.ingest.val-labels).");
            }
            List<String> classes = Arrays.stream(fs.listStatus(train)).filter(FileStatus::isDirectory)
                    .map(st -> st.getPath().getName()).filter(n -> !n.startsWith(".") && !n.startsWith("_")).sorted().toList();
            if (classes.isEmpty()) {
                throw new InputDataException("No class folders under " + train + " (expected train/<class>/<image>).");
            }
            boolean valByFolder = Arrays.stream(fs.listStatus(val)).anyMatch(FileStatus::isDirectory);
            HashMap<String, String> labels = new HashMap<>();
            String labelPath = null;
            if (!valByFolder) {
                Path lf = labelFile(s, fs, root, val);
                labelPath = lf.toUri().getPath();
                try (InputStream in = fs.open(lf)) {
                    labels.putAll(ValLabelFile.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList(), lf.toString()));
                }
            }
            Dataset<Row> listing = spark.read().format("binaryFile").option("recursiveFileLookup", "true")
                    .load(train.toString(), val.toString()).select("path", "length", "modificationTime").persist(StorageLevel.MEMORY_AND_DISK());
            Row agg = listing.selectExpr("count(*)", "coalesce(sum(length), 0)", "coalesce(max(modificationTime), timestamp'1970-01-01')").first();
            String hash = NasConfig.sha256(root + "|" + agg.getLong(0) + "|" + agg.getLong(1) + "|" + agg.get(2) + "|" + labels.hashCode());
            List<StageRecord.Input> inputs = List.of(new StageRecord.Input("source:folders", root.toString(), hash));
            HashMap<String, Integer> index = new HashMap<>();
            for (int i = 0; i < classes.size(); i++) {
                index.put(classes.get(i), i);
            }
            Dataset<Row> manifest = listing.flatMap(new FolderEntries(train.toUri().getPath(), val.toUri().getPath(), valByFolder, labels,
                    labelPath, index, s.imageExtensions()), Encoders.row(MANIFEST));
            LOG.info("ingest: {} files under {} ({} bytes), {} classes, validation labels {}", agg.getLong(0), root, agg.getLong(1),
                    classes.size(), valByFolder ? "from val/<class> folders" : "from " + labelPath);
            return new Source(false, inputs, manifest, classes, root.toString());
        }

        private static Path labelFile(IngestSettings s, FileSystem fs, Path root, Path val) throws IOException {
            if (!s.valLabels().isBlank()) {
                Path p = new Path(s.valLabels());
                if (!p.isAbsolute() && p.toUri().getScheme() == null) {
                    p = new Path(root, s.valLabels());
                }
                if (!fs.isFile(p)) {
                    throw new InputDataException("Validation label file " + p + " (nas.ingest.val-labels) does not exist.");
                }
                return p;
            }
            for (Path dir : List.of(root, val)) {
                for (String n : List.of("LOC_val_solution.csv", "val_labels.csv", "val.csv")) {
                    Path p = new Path(dir, n);
                    if (fs.isFile(p)) {
                        return p;
                    }
                }
            }
            throw new InputDataException("The val folder " + val + " is flat (no class folders) and no label file was found "
                    + "(looked for LOC_val_solution.csv, val_labels.csv, val.csv in " + root + " and " + val
                    + "). Set nas.ingest.val-labels to a 'file,class' CSV or ImageNet's LOC_val_solution.csv.");
        }

        List<String> classNames(IngestSettings s, Map<String, Map<Integer, Long>> usable) {
            if (!idx) {
                return folderClasses;
            }
            int maxLabel = usable.values().stream().flatMap(m -> m.keySet().stream()).max(Comparator.naturalOrder()).orElse(-1);
            if (!s.classNames().isEmpty()) {
                if (maxLabel >= s.classNames().size()) {
                    throw new InputDataException("The IDX labels in " + location + " go up to " + maxLabel + " but nas.ingest.class-names lists only "
                            + s.classNames().size() + " names. List " + (maxLabel + 1) + " names, or none to use the indices.");
                }
                return s.classNames();
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i <= maxLabel; i++) {
                names.add(String.valueOf(i));
            }
            return names;
        }

        String classLocation(String name) {
            return idx ? location + " (IDX labels)" : location + "/train/" + name;
        }
    }

    /** Executor side: reads an IDX labels file and emits one manifest row per image (offset = image index). */
    static final class IdxEntries implements FlatMapFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final HadoopConfSnapshot conf;

        IdxEntries(HadoopConfSnapshot conf) {
            this.conf = conf;
        }

        @Override
        public Iterator<Row> call(Row pair) throws Exception {
            String split = pair.getString(0);
            Path labels = new Path(pair.getString(1));
            Path images = new Path(pair.getString(2));
            IdxFile.Header ih;
            try (InputStream in = IdxFile.decompressing(images.getFileSystem(conf.get()).open(images))) {
                ih = IdxFile.readHeader(in, IdxFile.IMAGES_MAGIC, images.toString());
            }
            byte[] bytes;
            try (InputStream in = IdxFile.decompressing(labels.getFileSystem(conf.get()).open(labels))) {
                IdxFile.Header lh = IdxFile.readHeader(in, IdxFile.LABELS_MAGIC, labels.toString());
                if (lh.count() != ih.count()) {
                    throw new InputDataException(labels + " has " + lh.count() + " labels but " + images + " has " + ih.count() + " images.");
                }
                bytes = in.readNBytes(lh.count());
                if (bytes.length != lh.count()) {
                    throw new InputDataException(labels + " ends early: " + bytes.length + " of " + lh.count() + " labels.");
                }
            }
            List<Row> out = new ArrayList<>(bytes.length);
            String width = String.valueOf(Math.max(5, String.valueOf(bytes.length).length()));
            for (int i = 0; i < bytes.length; i++) {
                out.add(RowFactory.create(split, bytes[i] & 0xff, String.format("%s-%0" + width + "d", split, i), images.toString(), (long) i, null));
            }
            return out.iterator();
        }
    }

    /** Executor side: turns a listed file into a manifest row, or a reject row naming why it is not used. */
    static final class FolderEntries implements FlatMapFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final String trainRoot;
        private final String valRoot;
        private final boolean valByFolder;
        private final HashMap<String, String> labels;
        private final String labelPath;
        private final HashMap<String, Integer> classIndex;
        private final Set<String> extensions;

        FolderEntries(String trainRoot, String valRoot, boolean valByFolder, HashMap<String, String> labels, String labelPath,
                      HashMap<String, Integer> classIndex, Set<String> extensions) {
            this.trainRoot = trainRoot;
            this.valRoot = valRoot;
            this.valByFolder = valByFolder;
            this.labels = labels;
            this.labelPath = labelPath;
            this.classIndex = classIndex;
            this.extensions = Set.copyOf(extensions);
        }

        @Override
        public Iterator<Row> call(Row file) {
            String uri = file.getString(0);
            String p = new Path(uri).toUri().getPath();
            if (p.equals(labelPath)) {
                return List.<Row>of().iterator();
            }
            boolean isTrain = p.startsWith(trainRoot + "/");
            String rel = p.substring((isTrain ? trainRoot : valRoot).length() + 1);
            String split = isTrain ? "train" : "test";
            String id = (isTrain ? "train/" : "val/") + rel;
            String name = rel.substring(rel.lastIndexOf('/') + 1);
            int dot = name.lastIndexOf('.');
            String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase();
            if (!extensions.contains(ext)) {
                return reject(split, id, uri, "not an image file (extension '" + ext + "' is not in nas.ingest.image-extensions)");
            }
            String cls;
            if (isTrain || valByFolder) {
                int slash = rel.indexOf('/');
                if (slash < 0) {
                    return reject(split, id, uri, "not inside a class folder");
                }
                cls = rel.substring(0, slash);
            } else {
                cls = ValLabelFile.lookup(labels, name);
                if (cls == null) {
                    return reject(split, id, uri, "no label for '" + name + "' in " + labelPath);
                }
            }
            Integer k = classIndex.get(cls);
            if (k == null) {
                return reject(split, id, uri, "class '" + cls + "' has no folder under train/");
            }
            return List.of(RowFactory.create(split, k, id, uri, -1L, null)).iterator();
        }

        private static Iterator<Row> reject(String split, String id, String uri, String reason) {
            return List.of(RowFactory.create(split, -1, id, uri, -1L, reason)).iterator();
        }
    }

    /** Executor side: reads and decodes each manifest entry (IDX offset or image file) to resized HWC pixels. */
    static final class Decode implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final ImageResizer resizer;
        private final HadoopConfSnapshot conf;

        Decode(ImageResizer resizer, HadoopConfSnapshot conf) {
            this.resizer = resizer;
            this.conf = conf;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Iterator<>() {
                private String idxPath;
                private InputStream idxIn;
                private IdxFile.Header idxHeader;
                private long idxPos;

                @Override
                public boolean hasNext() {
                    boolean more = rows.hasNext();
                    if (!more) {
                        closeIdx();
                    }
                    return more;
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    Row r = rows.next();
                    try {
                        return r.getLong(4) >= 0 ? idx(r) : file(r);
                    } catch (IOException e) {
                        closeIdx();
                        throw new UncheckedIOException("Cannot read " + r.getString(3) + ": " + e.getMessage(), e);
                    }
                }

                private Row idx(Row r) throws IOException {
                    String path = r.getString(3);
                    long index = r.getLong(4);
                    if (idxIn == null || !path.equals(idxPath) || index < idxPos) {
                        closeIdx();
                        Path p = new Path(path);
                        idxIn = IdxFile.decompressing(p.getFileSystem(conf.get()).open(p));
                        idxHeader = IdxFile.readHeader(idxIn, IdxFile.IMAGES_MAGIC, path);
                        idxPath = path;
                        idxPos = 0;
                    }
                    int n = idxHeader.itemBytes();
                    byte[] gray;
                    try {
                        IdxFile.skipFully(idxIn, (index - idxPos) * n, path);
                        gray = idxIn.readNBytes(n);
                    } catch (java.io.EOFException e) { // a gzip stream cut short
                        gray = new byte[0];
                    }
                    if (gray.length != n) {
                        throw new InputDataException("IDX file " + path + " is truncated: it ends at image " + index + " of the " + idxHeader.count()
                                + " its header promises; download it again (or point nas.ingest.source at a complete copy).");
                    }
                    idxPos = index + 1;
                    byte[] px = resizer.pixelsFromGray(gray, idxHeader.cols(), idxHeader.rows());
                    return decoded(r, px, null);
                }

                private Row file(Row r) throws IOException {
                    Path p = new Path(r.getString(3));
                    byte[] bytes;
                    try (InputStream in = p.getFileSystem(conf.get()).open(p)) {
                        bytes = in.readAllBytes();
                    }
                    BufferedImage img;
                    try {
                        img = ImageIO.read(new ByteArrayInputStream(bytes));
                    } catch (IOException | RuntimeException e) {
                        return decoded(r, null, "undecodable image: " + e.getClass().getSimpleName() + ": " + e.getMessage());
                    }
                    if (img == null) {
                        return decoded(r, null, "undecodable image: no image reader recognises its content (" + bytes.length + " bytes)");
                    }
                    return decoded(r, resizer.pixels(img), null);
                }

                private Row decoded(Row r, byte[] px, String reason) {
                    return RowFactory.create(r.getString(0), r.getInt(1), r.getString(2), r.getString(3), resizer.resolution(),
                            resizer.resolution(), resizer.channels(), px, reason);
                }

                private void closeIdx() {
                    if (idxIn != null) {
                        try {
                            idxIn.close();
                        } catch (IOException ignored) {
                            // read-only stream; nothing is lost
                        }
                        idxIn = null;
                    }
                }
            };
        }
    }
}
