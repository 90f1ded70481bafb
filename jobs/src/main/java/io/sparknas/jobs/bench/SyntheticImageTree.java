package io.sparknas.jobs.bench;

import io.sparknas.jobs.data.HadoopConfSnapshot;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Writes an ImageNet-layout JPEG tree with deterministic content, for benchmarks at ImageNet's shape without ImageNet:
 * {@code train/<wnid>/<wnid>_<i>.JPEG}, a flat {@code val/ILSVRC2012_val_<n>.JPEG} and {@code LOC_val_solution.csv}, as
 * the real data set lays them out. Class {@code c} is {@code n%08d} of {@code c}; each image is a seeded composition (a
 * class-coloured background and shape, per-image position, size and noise) of a seeded size around 400 x 350, so JPEG
 * decoding costs about what ImageNet's does. Written by executor tasks, one class per task at a time; files already there
 * are kept (a re-run completes an interrupted tree).
 *
 * <p>Arguments: {@code OUT CLASSES TRAIN_PER_CLASS VAL_PER_CLASS [SEED] [SHRINK]}: SHRINK (default 1) divides the
 * images' sides, for trees where the file count matters and decoding should not ({@code submit/bench-ingest-count.sh}).
 */
public final class SyntheticImageTree {

    private SyntheticImageTree() {
    }

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: SyntheticImageTree OUT CLASSES TRAIN_PER_CLASS VAL_PER_CLASS [SEED] [SHRINK]");
            System.exit(2);
        }
        String out = args[0];
        int classes = Integer.parseInt(args[1]);
        int train = Integer.parseInt(args[2]);
        int val = Integer.parseInt(args[3]);
        long seed = args.length > 4 ? Long.parseLong(args[4]) : 1;
        int shrink = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        if (shrink < 1 || shrink > 50) {
            throw new IllegalArgumentException("SHRINK must be in 1..50, got " + shrink);
        }
        SparkSession spark = SparkSession.builder().appName("spark-nas synthetic ImageNet tree").getOrCreate();
        try {
            long t0 = System.nanoTime();
            HadoopConfSnapshot conf = new HadoopConfSnapshot(spark.sparkContext().hadoopConfiguration());
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            long bytes = jsc.parallelize(IntStream.range(0, classes).boxed().toList(), Math.max(1, Math.min(classes, 4 * jsc.defaultParallelism())))
                    .map(c -> writeClass(out, conf, c, train, val, seed, shrink)).reduce(Long::sum);
            StringBuilder csv = new StringBuilder("ImageId,PredictionString\n");
            for (int c = 0; c < classes; c++) {
                for (int i = 0; i < val; i++) {
                    csv.append(valName(c, i, val)).append(',').append(wnid(c)).append(" 0 0 10 10\n");
                }
            }
            Path labels = new Path(out, "LOC_val_solution.csv");
            FileSystem fs = labels.getFileSystem(conf.get());
            try (FSDataOutputStream o = fs.create(labels, true)) {
                o.write(csv.toString().getBytes(StandardCharsets.UTF_8));
            }
            System.out.printf(Locale.ROOT, "synthetic tree %s: %d classes x (%d train + %d val) JPEGs, %.1f MB written in %.1f s%n", out, classes,
                    train, val, bytes / 1e6, (System.nanoTime() - t0) / 1e9);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            spark.stop();
        }
    }

    static String wnid(int c) {
        return String.format(Locale.ROOT, "n%08d", c);
    }

    static String valName(int c, int i, int valPerClass) {
        return String.format(Locale.ROOT, "ILSVRC2012_val_%08d", 1 + (long) i * 1_000_000 + c);
    }

    private static long writeClass(String out, HadoopConfSnapshot conf, int c, int train, int val, long seed, int shrink)
            throws IOException {
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < train; i++) {
            paths.add(new Path(out, "train/" + wnid(c) + "/" + wnid(c) + "_" + i + ".JPEG"));
        }
        for (int i = 0; i < val; i++) {
            paths.add(new Path(out, "val/" + valName(c, i, val) + ".JPEG"));
        }
        FileSystem fs = paths.get(0).getFileSystem(conf.get());
        boolean local = fs.getUri().getScheme().equals("file");
        long bytes = 0;
        for (int k = 0; k < paths.size(); k++) {
            Path p = paths.get(k);
            java.nio.file.Path lp = local ? java.nio.file.Path.of(p.toUri().getPath()) : null;
            if (local ? java.nio.file.Files.exists(lp) : fs.exists(p)) {
                continue;
            }
            byte[] jpeg = jpeg(image(c, k, seed, shrink));
            if (local) {
                java.nio.file.Files.createDirectories(lp.getParent());
                java.nio.file.Path tmp = lp.resolveSibling("." + lp.getFileName() + ".tmp");
                java.nio.file.Files.write(tmp, jpeg);
                java.nio.file.Files.move(tmp, lp, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } else {
                Path tmp = new Path(p.getParent(), "." + p.getName() + ".tmp");
                try (FSDataOutputStream o = fs.create(tmp, true)) {
                    o.write(jpeg);
                }
                fs.rename(tmp, p);
            }
            bytes += jpeg.length;
        }
        return bytes;
    }

    /** Image k of class c: size, colours, shape and noise from (seed, c, k); its sides divided by shrink. */
    static BufferedImage image(int c, int k, long seed, int shrink) {
        Random cls = new Random(seed * 31 + c);
        Color background = new Color(cls.nextInt(256), cls.nextInt(256), cls.nextInt(256));
        Color shape = new Color(cls.nextInt(256), cls.nextInt(256), cls.nextInt(256));
        boolean round = cls.nextBoolean();
        Random rnd = new Random((seed * 1_000_003 + c) * 1_000_033 + k);
        int w = (300 + rnd.nextInt(200)) / shrink;
        int h = (250 + rnd.nextInt(200)) / shrink;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(background);
        g.fillRect(0, 0, w, h);
        g.setColor(shape);
        int sw = w / 4 + rnd.nextInt(w / 3);
        int sh = h / 4 + rnd.nextInt(h / 3);
        int x = rnd.nextInt(w - sw);
        int y = rnd.nextInt(h - sh);
        if (round) {
            g.fillOval(x, y, sw, sh);
        } else {
            g.fillRect(x, y, sw, sh);
        }
        g.dispose();
        // texture: JPEG then costs what a photograph's does to decode
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < px.length; i++) {
            int rgb = px[i];
            int n = rnd.nextInt(41) - 20;
            px[i] = (clamp(((rgb >> 16) & 255) + n) << 16) | (clamp(((rgb >> 8) & 255) + n) << 8) | clamp((rgb & 255) + n);
        }
        return img;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    private static byte[] jpeg(BufferedImage img) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(0.9f);
            writer.write(null, new IIOImage(img, null, null), p);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
