package io.sparknas.jobs.ingest;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ImageResizerTest {

    @Test
    void sameSizeGrayIsIdentity() {
        byte[] g = new byte[28 * 28];
        new Random(1).nextBytes(g);
        assertArrayEquals(g, new ImageResizer(28, 1, ImageResizer.Mode.CENTER_CROP).pixelsFromGray(g, 28, 28));
        assertArrayEquals(g, new ImageResizer(28, 1, ImageResizer.Mode.STRETCH).pixels(gray(g, 28, 28)), "gray PNG path keeps values (no gamma)");
    }

    @Test
    void grayPngRoundTripIsExact() throws IOException {
        byte[] g = new byte[28 * 28];
        new Random(2).nextBytes(g);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(gray(g, 28, 28), "png", png);
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(png.toByteArray()));
        assertArrayEquals(g, new ImageResizer(28, 1, ImageResizer.Mode.CENTER_CROP).pixels(back));
    }

    @Test
    void downscaleByTwoAveragesBlocks() {
        byte[] g = {0, 100, 10, 20, 50, (byte) 250, 30, 40, 1, 2, 3, 4, 5, 6, 7, 8};
        byte[] out = new ImageResizer(2, 1, ImageResizer.Mode.STRETCH).pixelsFromGray(g, 4, 4);
        assertArrayEquals(new byte[]{(byte) 100, 25, 4, 6}, out);
    }

    @Test
    void centerCropTakesTheMiddleSquare() {
        // 6x2: left and right columns 255, middle 2x2 block 0 -> center crop to 2x2 sees only zeros
        byte[] g = new byte[12];
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 6; x++) {
                g[y * 6 + x] = (byte) (x == 2 || x == 3 ? 0 : 255);
            }
        }
        assertArrayEquals(new byte[4], new ImageResizer(2, 1, ImageResizer.Mode.CENTER_CROP).pixelsFromGray(g, 6, 2));
    }

    @Test
    void padKeepsAspectAndFillsZeros() {
        byte[] g = new byte[4 * 2];
        Arrays.fill(g, (byte) 200);
        byte[] out = new ImageResizer(4, 1, ImageResizer.Mode.PAD).pixelsFromGray(g, 4, 2);
        // rows 0 and 3 padding, rows 1-2 image
        for (int x = 0; x < 4; x++) {
            assertEquals(0, out[x]);
            assertEquals((byte) 200, out[4 + x]);
            assertEquals((byte) 200, out[8 + x]);
            assertEquals(0, out[12 + x]);
        }
    }

    @Test
    void rgbToGrayUsesBt601AndGrayToRgbReplicates() {
        BufferedImage rgb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(0, 0, (200 << 16) | (100 << 8) | 50);
        byte[] g = new ImageResizer(1, 1, ImageResizer.Mode.STRETCH).pixels(rgb);
        assertEquals(Math.round(0.299f * 200 + 0.587f * 100 + 0.114f * 50), g[0] & 0xff);
        byte[] c = new ImageResizer(2, 3, ImageResizer.Mode.STRETCH).pixelsFromGray(new byte[]{7, 7, 7, 7}, 2, 2);
        assertArrayEquals(new byte[]{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, c);
    }

    @Test
    void rgbChannelsStayInHwcOrder() {
        BufferedImage rgb = new BufferedImage(2, 1, BufferedImage.TYPE_3BYTE_BGR);
        rgb.setRGB(0, 0, (1 << 16) | (2 << 8) | 3);
        rgb.setRGB(1, 0, (4 << 16) | (5 << 8) | 6);
        byte[] px = new ImageResizer(2, 3, ImageResizer.Mode.PAD).pixels(rgb);
        // 2x1 padded into 2x2: row 0 is the image (pad puts the single row at y = 0), row 1 zeros
        assertArrayEquals(new byte[]{1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0}, px);
    }

    static BufferedImage gray(byte[] g, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, w, h, g);
        return img;
    }
}
