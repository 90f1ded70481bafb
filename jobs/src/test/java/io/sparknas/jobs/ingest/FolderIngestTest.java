package io.sparknas.jobs.ingest;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.testing.FashionMnist;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ingest of an ImageNet-layout tree written by the test from real Fashion-MNIST images: PNG and JPEG files in
 * train/&lt;class&gt;/, a flat val/ with a label CSV, one corrupt image and one non-image file.
 */
class FolderIngestTest {

    static final int TRAIN_PER_CLASS = 12;
    static final int VAL_PER_CLASS = 4;

    @TempDir
    static Path data;
    @TempDir
    static Path runs;
    static SparkSession spark;
    static byte[][] train;
    static int[] trainLabels;
    static byte[][] test;
    static int[] testLabels;

    @BeforeAll
    static void writeTree() throws IOException {
        spark = SharedSpark.session();
        train = FashionMnist.images("train");
        trainLabels = FashionMnist.labels("train");
        test = FashionMnist.images("t10k");
        testLabels = FashionMnist.labels("t10k");
        Path flat = data.resolve("flat");
        writeClasses(flat.resolve("train"), train, trainLabels, TRAIN_PER_CLASS, "img");
        List<String> csv = new ArrayList<>(List.of("file,class"));
        int[] seen = new int[10];
        Files.createDirectories(flat.resolve("val"));
        for (int i = 0; i < test.length && csv.size() <= 10 * VAL_PER_CLASS; i++) {
            if (seen[testLabels[i]]++ < VAL_PER_CLASS) {
                ImageIO.write(gray(test[i]), "png", flat.resolve("val/v-" + i + ".png").toFile());
                csv.add("v-" + i + ".png," + testLabels[i]);
            }
        }
        Files.write(flat.resolve("val.csv"), csv);
        byte[] junk = new byte[300];
        new Random(3).nextBytes(junk);
        Files.write(flat.resolve("train/3/corrupt.png"), junk);
        Files.writeString(flat.resolve("train/5/notes.txt"), "not an image");

        Path byFolder = data.resolve("byfolder");
        writeClasses(byFolder.resolve("train"), train, trainLabels, TRAIN_PER_CLASS, "img");
        writeClasses(byFolder.resolve("val"), test, testLabels, VAL_PER_CLASS, "v");
    }

    /** Per class folder (named by label), the first n images of that label; even indices as PNG, odd as JPEG. */
    static void writeClasses(Path dir, byte[][] images, int[] labels, int n, String prefix) throws IOException {
        int[] seen = new int[10];
        for (int i = 0; i < images.length; i++) {
            if (seen[labels[i]] >= n) {
                continue;
            }
            seen[labels[i]]++;
            Path cls = dir.resolve(String.valueOf(labels[i]));
            Files.createDirectories(cls);
            String fmt = i % 2 == 0 ? "png" : "jpg";
            ImageIO.write(gray(images[i]), fmt.equals("png") ? "png" : "jpeg", cls.resolve(prefix + "-" + i + "." + fmt).toFile());
        }
    }

    static BufferedImage gray(byte[] px) {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, 28, 28, px);
        return img;
    }

    private static IngestResult ingest(String tree, String runId, Map<String, String> extra) {
        Map<String, String> o = new HashMap<>(Map.of("nas.ingest.source", data.resolve(tree).toString(), "nas.ingest.format", "auto",
                "nas.ingest.resolution", "28", "nas.ingest.channels", "1", "nas.ingest.val-per-class", "2", "nas.ingest.seed", "5"));
        o.putAll(extra);
        return IngestStage.run(Stages.ingest(null, runs, runId, false, o), spark);
    }

    @Test
    void flatValWithLabelFileRejectsCorruptAndNonImageFiles() {
        IngestResult r = ingest("flat", "flat", Map.of());
        assertEquals(10 * (TRAIN_PER_CLASS - 2), r.train());
        assertEquals(10 * 2, r.val());
        assertEquals(10 * VAL_PER_CLASS, r.test());
        assertEquals(2, r.rejects());
        Map<String, String> rejects = new HashMap<>();
        for (Row row : spark.read().parquet(r.stageUri() + "/rejects").collectAsList()) {
            rejects.put(row.getString(0).substring(row.getString(0).lastIndexOf('/') + 1), row.getString(1));
        }
        assertTrue(rejects.get("corrupt.png").startsWith("undecodable image"), rejects.toString());
        assertTrue(rejects.get("notes.txt").startsWith("not an image file"), rejects.toString());

        // label distribution equals the source's: class folder name = label = class_index
        for (Row c : spark.read().parquet(r.stageUri() + "/classes").collectAsList()) {
            assertEquals(String.valueOf((int) c.getAs("index")), c.getAs("name"));
            assertEquals(TRAIN_PER_CLASS - 2, (long) c.getAs("train"));
            assertEquals(2L, (long) c.getAs("val"));
            assertEquals(VAL_PER_CLASS, (long) c.getAs("test"));
        }
        // PNG is lossless: bytes equal the source; JPEG is close; the class of each image is its source label
        int png = 0;
        for (Row row : spark.read().parquet(r.stageUri() + "/images").collectAsList()) {
            String id = row.getAs("id");
            String file = id.substring(id.lastIndexOf('/') + 1);
            int idx = Integer.parseInt(file.substring(file.indexOf('-') + 1, file.indexOf('.')));
            boolean fromVal = id.startsWith("val/");
            byte[] src = fromVal ? test[idx] : train[idx];
            assertEquals(fromVal ? testLabels[idx] : trainLabels[idx], (int) row.getAs("class_index"), id);
            byte[] px = row.getAs("pixels");
            if (file.endsWith(".png")) {
                assertArrayEquals(src, px, id);
                png++;
            } else {
                double diff = 0;
                for (int i = 0; i < px.length; i++) {
                    diff += Math.abs((px[i] & 0xff) - (src[i] & 0xff));
                }
                assertTrue(diff / px.length < 12, id + " mean abs diff " + diff / px.length);
            }
        }
        assertTrue(png > 50, "png images checked: " + png);
    }

    @Test
    void valByClassFoldersAtAnotherResolutionAndColour() {
        IngestResult r = ingest("byfolder", "byfolder", Map.of("nas.ingest.resolution", "32", "nas.ingest.channels", "3",
                "nas.ingest.resize-mode", "stretch"));
        assertEquals(10 * (TRAIN_PER_CLASS - 2), r.train());
        assertEquals(10 * VAL_PER_CLASS, r.test());
        assertEquals(0, r.rejects());
        Row any = spark.read().parquet(r.stageUri() + "/images").first();
        assertEquals(32, (int) any.getAs("height"));
        assertEquals(3, (int) any.getAs("channels"));
        byte[] px = any.getAs("pixels");
        assertEquals(32 * 32 * 3, px.length);
        for (int i = 0; i < px.length; i += 3) {
            assertTrue(px[i] == px[i + 1] && px[i] == px[i + 2], "gray replicated to RGB");
        }
    }

    @Test
    void moreRejectsThanTheConfiguredFractionStopIngestNamingThemAndCommitNothing() throws IOException {
        // 5 corrupt files among 160 images: 3.0% rejected, above the default 1%
        Path tree = data.resolve("corrupt");
        writeClasses(tree.resolve("train"), train, trainLabels, TRAIN_PER_CLASS, "img");
        writeClasses(tree.resolve("val"), test, testLabels, VAL_PER_CLASS, "v");
        byte[] junk = new byte[300];
        new Random(4).nextBytes(junk);
        for (int k = 0; k < 5; k++) {
            Files.write(tree.resolve("train/" + k + "/broken-" + k + ".jpg"), junk);
        }
        InputDataException e = assertThrows(InputDataException.class, () -> ingest("corrupt", "corrupt", Map.of()));
        assertTrue(e.getMessage().contains("5 of 165 image files (3.0%) were rejected") && e.getMessage().contains("nas.ingest.max-reject-fraction = 0.01")
                && e.getMessage().contains("broken-0.jpg (undecodable image"), e.getMessage());
        assertFalse(runs.resolve("corrupt/ingest/_stage.json").toFile().exists(), "nothing committed");
        // allowed explicitly: committed, with the five in rejects
        IngestResult r = ingest("corrupt", "corrupt", Map.of("nas.ingest.max-reject-fraction", "0.05"));
        assertEquals(5, r.rejects());
        assertEquals(10 * (TRAIN_PER_CLASS - 2), r.train());
    }

    @Test
    void missingTrainFolderAndEmptyClassAreErrorsNamingThePath() throws IOException {
        Path noTrain = data.resolve("no-train");
        Files.createDirectories(noTrain.resolve("val"));
        InputDataException e = assertThrows(InputDataException.class,
                () -> ingest("no-train", "no-train", Map.of("nas.ingest.format", "folders")));
        assertTrue(e.getMessage().contains("Missing train folder") && e.getMessage().contains(noTrain.resolve("train").toString()), e.getMessage());

        Path empty = data.resolve("empty-class");
        writeClasses(empty.resolve("train"), train, trainLabels, 4, "img");
        writeClasses(empty.resolve("val"), test, testLabels, 1, "v");
        Files.createDirectories(empty.resolve("train/zz-empty"));
        Files.writeString(empty.resolve("train/zz-empty/readme.txt"), "no images here");
        InputDataException e2 = assertThrows(InputDataException.class, () -> ingest("empty-class", "empty-class", Map.of()));
        assertTrue(e2.getMessage().contains("Class 'zz-empty'") && e2.getMessage().contains("no usable training images")
                && e2.getMessage().contains(empty.resolve("train").toString()), e2.getMessage());
        assertTrue(!runs.resolve("empty-class/ingest").toFile().exists(), "a failed stage leaves no output");
    }
}
