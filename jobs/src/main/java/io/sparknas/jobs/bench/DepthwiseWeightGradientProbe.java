package io.sparknas.jobs.bench;

import java.util.Arrays;
import java.util.Random;

/**
 * Benchmark (prints figures; not a test) for issue 38's first lead: a direct depthwise weight gradient (stride 1, same
 * padding) on NCHW and on channels-last arrays, timed on the shapes where ND4J M2.1's oneDNN falls back to im2col + GEMM
 * (5x5 and 7x7 kernels of the width-0.5 Fashion-MNIST space, batch 64), and checked against a double-precision sum.
 * {@code dW[c][i][j] = sum over n, y, x of in[n][c][y + i - p][x + j - p] * dy[n][c][y][x]}. Plain loops on one thread;
 * compare with oneDNN's per-call time in an {@code ONEDNN_VERBOSE=1} log of the same step (docs/performance.md).
 * <pre>java -cp jobs/target/spark-nas-jobs.jar io.sparknas.jobs.bench.DepthwiseWeightGradientProbe</pre>
 */
public final class DepthwiseWeightGradientProbe {

    private DepthwiseWeightGradientProbe() {
    }

    /** NCHW: per channel and kernel tap, an element-wise accumulation along each output row. */
    static void nchw(float[] in, float[] dy, float[] dw, int n, int c, int h, int w, int k) {
        int p = k / 2;
        float[] acc = new float[w];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    Arrays.fill(acc, 0f);
                    int x0 = Math.max(0, p - j);
                    int x1 = Math.min(w, w + p - j);
                    int y0 = Math.max(0, p - i);
                    int y1 = Math.min(h, h + p - i);
                    for (int b = 0; b < n; b++) {
                        int base = (b * c + ch) * h * w;
                        for (int y = y0; y < y1; y++) {
                            int out = base + y * w;
                            int src = base + (y + i - p) * w + (j - p);
                            for (int x = x0; x < x1; x++) {
                                acc[x] += in[src + x] * dy[out + x];
                            }
                        }
                    }
                    float s = 0;
                    for (float v : acc) {
                        s += v;
                    }
                    dw[(ch * k + i) * k + j] = s;
                }
            }
        }
    }

    /** Channels-last ({@code [n][y][x][c]}, dW as {@code [i][j][c]}): the innermost loop runs over contiguous channels. */
    static void channelsLast(float[] in, float[] dy, float[] dw, int n, int c, int h, int w, int k) {
        int p = k / 2;
        Arrays.fill(dw, 0f);
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int out = ((b * h + y) * w + x) * c;
                    for (int i = 0; i < k; i++) {
                        int yy = y + i - p;
                        if (yy < 0 || yy >= h) {
                            continue;
                        }
                        for (int j = 0; j < k; j++) {
                            int xx = x + j - p;
                            if (xx < 0 || xx >= w) {
                                continue;
                            }
                            int src = ((b * h + yy) * w + xx) * c;
                            int d = (i * k + j) * c;
                            for (int ch = 0; ch < c; ch++) {
                                dw[d + ch] += in[src + ch] * dy[out + ch];
                            }
                        }
                    }
                }
            }
        }
    }

    /** The same sum in double precision for one weight, NCHW indexing. */
    static double reference(float[] in, float[] dy, int n, int c, int h, int w, int k, int ch, int i, int j) {
        int p = k / 2;
        double s = 0;
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int yy = y + i - p;
                    int xx = x + j - p;
                    if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                        s += (double) in[((b * c + ch) * h + yy) * w + xx] * dy[((b * c + ch) * h + y) * w + x];
                    }
                }
            }
        }
        return s;
    }

    /** NCHW to channels-last. */
    static float[] toChannelsLast(float[] a, int n, int c, int h, int w) {
        float[] out = new float[a.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        out[((b * h + y) * w + x) * c + ch] = a[((b * c + ch) * h + y) * w + x];
                    }
                }
            }
        }
        return out;
    }

    public static void main(String[] args) {
        int[][] shapes = {{64, 96, 14, 14, 7}, {64, 16, 28, 28, 7}, {64, 576, 2, 2, 7}, {64, 96, 14, 14, 5}, {64, 240, 4, 4, 7}};
        int reps = 20;
        for (int[] sh : shapes) {
            int n = sh[0];
            int c = sh[1];
            int h = sh[2];
            int w = sh[3];
            int k = sh[4];
            Random r = new Random(1);
            float[] in = new float[n * c * h * w];
            float[] dy = new float[in.length];
            for (int q = 0; q < in.length; q++) {
                in[q] = r.nextFloat() - 0.5f;
                dy[q] = r.nextFloat() - 0.5f;
            }
            float[] inLast = toChannelsLast(in, n, c, h, w);
            float[] dyLast = toChannelsLast(dy, n, c, h, w);
            float[] dw = new float[c * k * k];
            float[] dwLast = new float[c * k * k];
            double[] ms = new double[2];
            for (int variant = 0; variant < 2; variant++) {
                for (int rep = 0; rep < 2 * reps; rep++) {
                    long t0 = System.nanoTime();
                    if (variant == 0) {
                        nchw(in, dy, dw, n, c, h, w, k);
                    } else {
                        channelsLast(inLast, dyLast, dwLast, n, c, h, w, k);
                    }
                    if (rep >= reps) {
                        ms[variant] += (System.nanoTime() - t0) / 1e6 / reps;
                    }
                }
            }
            double err = 0;
            for (int q = 0; q < 8; q++) {
                int ch = r.nextInt(c);
                int i = r.nextInt(k);
                int j = r.nextInt(k);
                double want = reference(in, dy, n, c, h, w, k, ch, i, j);
                err = Math.max(err, Math.max(Math.abs(want - dw[(ch * k + i) * k + j]), Math.abs(want - dwLast[(i * k + j) * c + ch])));
            }
            System.out.printf("depthwise dW %d ch %dx%d %dx%d batch %d: NCHW %.2f ms, channels-last %.2f ms per call; max |error| %.1e%n",
                    c, h, w, k, k, n, ms[0], ms[1], err);
        }
    }
}
