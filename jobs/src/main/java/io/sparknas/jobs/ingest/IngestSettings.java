package io.sparknas.jobs.ingest;

import com.typesafe.config.Config;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.StageArgs;

import java.util.List;
import java.util.Set;

/**
 * Settings of the ingest stage ({@code nas.ingest}; defaults and meanings in jobs' reference.conf).
 *
 * @param run            run root, id, --force
 * @param source         folder holding IDX files or an ImageNet-layout tree (local path or URI)
 * @param format         {@code auto}, {@code idx} or {@code folders}
 * @param resolution     output height and width
 * @param channels       1 or 3
 * @param resizeMode     aspect-ratio handling
 * @param valPerClass    images per class held out of train as the search {@code val} split
 * @param trainPerClass  cap on train images per class after the hold-out (0: all)
 * @param testPerClass   cap on test images per class (0: all)
 * @param seed           seed of the hold-out shuffle
 * @param classNames     names for IDX class indices (empty: the indices)
 * @param valLabels      label file of a flat val/ folder (empty: auto-detect)
 * @param partitions     decode partitions (0: from the input size and parallelism)
 * @param idxNames       IDX file names: train images, train labels, test images, test labels (".gz" optional)
 * @param imageExtensions file extensions decoded as images; other files are rejected
 * @param maxRejectFraction the largest share of image files that may be rejected before the stage stops
 * @param buckets        hash buckets per split: the unit a worker's shard is made of (worker w of W reads buckets b = w mod W)
 * @param rowGroupImages images per Parquet row group of a bucket file, the unit a round reads
 */
public record IngestSettings(RunSettings run, String source, String format, int resolution, int channels,
                             ImageResizer.Mode resizeMode, int valPerClass, int trainPerClass, int testPerClass, long seed,
                             List<String> classNames, String valLabels, int partitions, List<String> idxNames,
                             Set<String> imageExtensions, double maxRejectFraction, int buckets,
                             int rowGroupImages) {

    public static final String SECTION = "nas.ingest";

    public static IngestSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        RunSettings run = RunSettings.from(config, args);
        String source = r.required("nas.ingest.source",
                "set it to a folder with IDX files (e.g. /usr/share/datasets/fashion-mnist) or an ImageNet-layout tree (train/<class>/*)");
        String format = r.oneOf("nas.ingest.format", Set.of("auto", "idx", "folders"));
        int resolution = r.intBetween("nas.ingest.resolution", 8, 1024);
        int channels = r.intIn("nas.ingest.channels", Set.of(1, 3));
        ImageResizer.Mode mode = ImageResizer.Mode.parse(r.oneOf("nas.ingest.resize-mode", Set.of("center-crop", "stretch", "pad")));
        int val = r.intBetween("nas.ingest.val-per-class", 0, 1_000_000);
        int train = r.intBetween("nas.ingest.train-per-class", 0, 100_000_000);
        int test = r.intBetween("nas.ingest.test-per-class", 0, 100_000_000);
        long seed = r.longBetween("nas.ingest.seed", Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> names = r.strings("nas.ingest.class-names");
        String valLabels = r.string("nas.ingest.val-labels");
        int partitions = r.intBetween("nas.ingest.partitions", 0, 1_000_000);
        List<String> idx = List.of(r.required("nas.ingest.idx.train-images", "name the IDX train images file"),
                r.required("nas.ingest.idx.train-labels", "name the IDX train labels file"),
                r.required("nas.ingest.idx.test-images", "name the IDX test images file"),
                r.required("nas.ingest.idx.test-labels", "name the IDX test labels file"));
        Set<String> ext = Set.copyOf(r.strings("nas.ingest.image-extensions").stream().map(String::toLowerCase).toList());
        return new IngestSettings(run, source, format, resolution, channels, mode, val, train, test, seed, names, valLabels,
                partitions, idx, ext, r.doubleBetween("nas.ingest.max-reject-fraction", 0, 1), r.intBetween("nas.ingest.buckets", 1, 65_536),
                r.intBetween("nas.ingest.row-group-images", 1, 1_000_000));
    }
}
