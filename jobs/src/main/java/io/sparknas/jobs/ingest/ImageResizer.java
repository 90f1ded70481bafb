package io.sparknas.jobs.ingest;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.Serializable;

/**
 * Turns a decoded image into {@code resolution x resolution x channels} uint8 pixels in HWC order.
 *
 * <p>Works on raster samples, not through Java2D drawing: Java2D converts {@code TYPE_BYTE_GRAY} through a linear
 * gray colour space, which would change the pixel values of gray PNGs. Resampling is separable: area averaging when
 * shrinking (no aliasing at ImageNet-to-224 ratios), bilinear when enlarging, exact identity at equal size.
 * Gray from RGB uses the ITU-R BT.601 weights (0.299, 0.587, 0.114).
 */
public final class ImageResizer implements Serializable {

    private static final long serialVersionUID = 1L;

    /** How the aspect ratio is handled. */
    public enum Mode {
        /** Scale the shorter side to the resolution, crop the centre square (the usual ImageNet evaluation transform). */
        CENTER_CROP,
        /** Scale each side to the resolution independently. */
        STRETCH,
        /** Scale the longer side to the resolution, pad the rest with zeros. */
        PAD;

        public static Mode parse(String s) {
            return valueOf(s.trim().toUpperCase().replace('-', '_'));
        }
    }

    private final int resolution;
    private final int channels;
    private final Mode mode;

    public ImageResizer(int resolution, int channels, Mode mode) {
        if (resolution < 1 || (channels != 1 && channels != 3)) {
            throw new IllegalArgumentException("resolution >= 1 and channels 1 or 3, got " + resolution + ", " + channels);
        }
        this.resolution = resolution;
        this.channels = channels;
        this.mode = mode;
    }

    public int resolution() {
        return resolution;
    }

    public int channels() {
        return channels;
    }

    /** Pixels of a decoded image. */
    public byte[] pixels(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        Raster raster = img.getRaster();
        boolean gray = !(img.getColorModel() instanceof IndexColorModel) && img.getColorModel().getNumColorComponents() == 1;
        float[][] planes;
        if (gray) {
            int shift = Math.max(0, img.getColorModel().getComponentSize(0) - 8);
            int[] s = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            float[] g = new float[w * h];
            for (int i = 0; i < s.length; i++) {
                g[i] = s[i] >> shift;
            }
            planes = new float[][]{g};
        } else {
            int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
            float[] r = new float[w * h];
            float[] gr = new float[w * h];
            float[] b = new float[w * h];
            for (int i = 0; i < argb.length; i++) {
                r[i] = (argb[i] >> 16) & 0xff;
                gr[i] = (argb[i] >> 8) & 0xff;
                b[i] = argb[i] & 0xff;
            }
            planes = new float[][]{r, gr, b};
        }
        return fromPlanes(planes, w, h);
    }

    /** Pixels of a gray image given as row-major bytes (IDX); a copy when no resizing is needed. */
    public byte[] pixelsFromGray(byte[] gray, int w, int h) {
        if (w == resolution && h == resolution && channels == 1) {
            return gray.clone();
        }
        float[] g = new float[w * h];
        for (int i = 0; i < g.length; i++) {
            g[i] = gray[i] & 0xff;
        }
        return fromPlanes(new float[][]{g}, w, h);
    }

    private byte[] fromPlanes(float[][] planes, int w, int h) {
        if (channels == 1 && planes.length == 3) {
            float[] g = new float[w * h];
            for (int i = 0; i < g.length; i++) {
                g[i] = 0.299f * planes[0][i] + 0.587f * planes[1][i] + 0.114f * planes[2][i];
            }
            planes = new float[][]{g};
        }
        int r = resolution;
        int x0 = 0;
        int y0 = 0;
        int cw = w;
        int ch = h;
        int dw = r;
        int dh = r;
        switch (mode) {
            case CENTER_CROP -> {
                int m = Math.min(w, h);
                x0 = (w - m) / 2;
                y0 = (h - m) / 2;
                cw = m;
                ch = m;
            }
            case PAD -> {
                if (w >= h) {
                    dh = Math.max(1, Math.round((float) h * r / w));
                } else {
                    dw = Math.max(1, Math.round((float) w * r / h));
                }
            }
            case STRETCH -> {
            }
        }
        int ox = (r - dw) / 2;
        int oy = (r - dh) / 2;
        byte[] out = new byte[r * r * channels];
        for (int p = 0; p < planes.length; p++) {
            float[] scaled = resample(planes[p], w, x0, y0, cw, ch, dw, dh);
            for (int y = 0; y < dh; y++) {
                for (int x = 0; x < dw; x++) {
                    int v = Math.round(scaled[y * dw + x]);
                    byte bv = (byte) Math.max(0, Math.min(255, v));
                    int base = ((y + oy) * r + (x + ox)) * channels;
                    if (planes.length == 1) {
                        for (int c = 0; c < channels; c++) {
                            out[base + c] = bv;
                        }
                    } else {
                        out[base + p] = bv;
                    }
                }
            }
        }
        return out;
    }

    /** Separable resampling of the region (x0, y0, cw, ch) of a plane of width {@code stride} to dw x dh. */
    private static float[] resample(float[] src, int stride, int x0, int y0, int cw, int ch, int dw, int dh) {
        Weights wx = Weights.of(cw, dw);
        Weights wy = Weights.of(ch, dh);
        float[] tmp = new float[ch * dw];
        for (int y = 0; y < ch; y++) {
            int row = (y0 + y) * stride + x0;
            for (int x = 0; x < dw; x++) {
                float acc = 0;
                for (int k = wx.start[x]; k < wx.start[x + 1]; k++) {
                    acc += src[row + wx.index[k]] * wx.weight[k];
                }
                tmp[y * dw + x] = acc;
            }
        }
        float[] out = new float[dh * dw];
        for (int y = 0; y < dh; y++) {
            for (int k = wy.start[y]; k < wy.start[y + 1]; k++) {
                int sr = wy.index[k] * dw;
                float wk = wy.weight[k];
                for (int x = 0; x < dw; x++) {
                    out[y * dw + x] += tmp[sr + x] * wk;
                }
            }
        }
        return out;
    }

    /** Per output index, the source indices and weights (CSR layout). */
    private record Weights(int[] start, int[] index, float[] weight) {
        static Weights of(int srcLen, int dstLen) {
            double scale = (double) srcLen / dstLen;
            int[] start = new int[dstLen + 1];
            int[] idx = new int[dstLen * ((int) Math.ceil(scale) + 2)];
            float[] wt = new float[idx.length];
            int n = 0;
            for (int i = 0; i < dstLen; i++) {
                start[i] = n;
                if (scale >= 1.0) {
                    double a = i * scale;
                    double b = (i + 1) * scale;
                    for (int j = (int) Math.floor(a); j < Math.min(srcLen, (int) Math.ceil(b)); j++) {
                        double overlap = Math.min(b, j + 1) - Math.max(a, j);
                        if (overlap > 1e-9) {
                            idx[n] = j;
                            wt[n++] = (float) (overlap / scale);
                        }
                    }
                } else {
                    double x = (i + 0.5) * scale - 0.5;
                    int j0 = (int) Math.floor(x);
                    double t = x - j0;
                    int a = Math.max(0, Math.min(srcLen - 1, j0));
                    int b = Math.max(0, Math.min(srcLen - 1, j0 + 1));
                    idx[n] = a;
                    wt[n++] = (float) (1 - t);
                    idx[n] = b;
                    wt[n++] = (float) t;
                }
            }
            start[dstLen] = n;
            return new Weights(start, idx, wt);
        }
    }
}
