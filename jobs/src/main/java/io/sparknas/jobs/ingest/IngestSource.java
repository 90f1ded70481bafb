package io.sparknas.jobs.ingest;

import io.sparknas.jobs.data.HadoopConfSnapshot;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.store.StageRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
import java.util.Set;

/**
 * What ingest reads: IDX files or an ImageNet-layout folder tree, with its fingerprint (the stage's inputs) and its manifest,
 * one small row per image (split, class, id, path, IDX offset) or per rejected file (with the reason), built lazily on the
 * executors: IDX labels are read there, class folders are listed there ({@link FolderListing}).
 */
final class IngestSource {

    /** A manifest row: offset is the image's index in an IDX file, -1 for an image file; reason is set on a rejected file. */
    static final StructType MANIFEST = new StructType()
            .add("src_split", DataTypes.StringType, false)
            .add("class_index", DataTypes.IntegerType, false)
            .add("id", DataTypes.StringType, false)
            .add("path", DataTypes.StringType, false)
            .add("offset", DataTypes.LongType, false)
            .add("reason", DataTypes.StringType, true);

    private static final Logger LOG = LoggerFactory.getLogger(IngestSource.class);

    final boolean idx;
    final List<StageRecord.Input> inputs;
    final Dataset<Row> manifest;
    final List<String> folderClasses;
    final String location;

    private IngestSource(boolean idx, List<StageRecord.Input> inputs, Dataset<Row> manifest, List<String> folderClasses, String location) {
        this.idx = idx;
        this.inputs = inputs;
        this.manifest = manifest;
        this.folderClasses = folderClasses;
        this.location = location;
    }

    static IngestSource open(IngestSettings s, SparkSession spark) {
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

    private static IngestSource openIdx(IngestSettings s, SparkSession spark, FileSystem fs, Path root) throws IOException {
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
        return new IngestSource(true, inputs, manifest, null, root.toString());
    }

    private static IngestSource openFolders(IngestSettings s, SparkSession spark, FileSystem fs, Path root) throws IOException {
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
        Dataset<Row> listing = FolderListing.list(spark, fs, List.of(train, val)).persist(StorageLevel.MEMORY_AND_DISK());
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
        return new IngestSource(false, inputs, manifest, classes, root.toString());
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

    /** The start of a reject reason for a file that is not an image by its extension (not counted as a failed image). */
    static final String NOT_AN_IMAGE = "not an image file";

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
                return reject(split, id, uri, NOT_AN_IMAGE + " (extension '" + ext + "' is not in nas.ingest.image-extensions)");
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
}
