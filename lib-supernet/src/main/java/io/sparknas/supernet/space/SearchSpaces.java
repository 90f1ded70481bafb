package io.sparknas.supernet.space;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The search space families, scaled by width multiplier, input resolution and stem stride so that the same definitions run
 * 28x28x1 Fashion-MNIST and 224x224x3 ImageNet.
 *
 * <ul>
 *   <li>{@code mobilenetv2}: PAD-NAS Table 1 with the basic op set of Table 2 (IBConv k in {3,5,7} x e in {3,6}, plus identity),
 *       the ProxylessNAS space. The first searchable layer has expansion 1 (3 ops); identity is not allowed in the first layer
 *       of a stage; 22 layers; at full scale 3 x 6^6 x 7^15 ~ 6.64e17 architectures.</li>
 *   <li>{@code mobilenetv2-large}: the large op set of Table 2 (e in 1..6: 18 IBConv ops plus identity), stem and first stages
 *       16-16-24; 3 x 18^6 x 19^15 ~ 1.55e27 architectures.</li>
 * </ul>
 * Channels scale as {@code max(8, floor(c * width))}, the convention of the libtorch peer benchmark.
 */
public final class SearchSpaces {

    public static final Set<String> FAMILIES = Set.of("mobilenetv2", "mobilenetv2-large", "shufflenetv2", "shuffle-mobile");

    /** {output channels, repeats} of the ShuffleNetV2 1.0x stages of SPOS (every stage starts with stride 2); stem 16, head 1024. */
    private static final int[][] SHUFFLE_STAGES = {{64, 4}, {160, 4}, {320, 8}, {640, 4}};

    /** {output channels, repeats, stride} per stage of PAD-NAS Table 1 after the first searchable stage. */
    private static final int[][] BASIC_STAGES = {{16, 1, 1}, {32, 4, 2}, {40, 4, 2}, {80, 4, 2}, {96, 4, 1}, {192, 4, 2}, {320, 1, 1}};
    private static final int[][] LARGE_STAGES = {{16, 1, 1}, {24, 4, 2}, {40, 4, 2}, {80, 4, 2}, {96, 4, 1}, {192, 4, 2}, {320, 1, 1}};

    /**
     * How to scale a family.
     *
     * @param family      {@code mobilenetv2} or {@code mobilenetv2-large}
     * @param width       width multiplier (1.0 in the papers)
     * @param resolution  input height = width (224 ImageNet, 28 Fashion-MNIST)
     * @param inChannels  input channels (3 or 1)
     * @param stemStride  stride of the stem conv (2 for ImageNet; 1 keeps small inputs from vanishing)
     * @param classes     classifier outputs
     * @param maxLayersPerStage cap on the searchable layers of each stage (the first ones are kept; 0: the paper's plan);
     *                    a shallower space for small data and quick runs
     */
    public record Options(String family, double width, int resolution, int inChannels, int stemStride, int classes, int maxLayersPerStage) {

        /** The paper's depth. */
        public Options(String family, double width, int resolution, int inChannels, int stemStride, int classes) {
            this(family, width, resolution, inChannels, stemStride, classes, 0);
        }

        public Options {
            if (!FAMILIES.contains(family)) {
                throw new IllegalArgumentException("Unknown search space family '" + family + "'; known: " + FAMILIES);
            }
            if (width <= 0 || resolution < 8 || inChannels < 1 || stemStride < 1 || classes < 2 || maxLayersPerStage < 0) {
                throw new IllegalArgumentException("Bad space options " + this);
            }
        }
    }

    private SearchSpaces() {
    }

    public static SearchSpace build(Options o) {
        if (o.family().startsWith("shuffle")) {
            return shuffle(o);
        }
        boolean large = o.family().equals("mobilenetv2-large");
        int[][] stages = large ? LARGE_STAGES : BASIC_STAGES;
        int stem = ch(large ? 16 : 32, o.width());
        List<Op> firstOps = new ArrayList<>();
        for (int k : new int[]{3, 5, 7}) {
            firstOps.add(new Op.IBConv(k, 1));
        }
        List<Op> ibconv = new ArrayList<>();
        for (int k : new int[]{3, 5, 7}) {
            for (int e : large ? new int[]{1, 2, 3, 4, 5, 6} : new int[]{3, 6}) {
                ibconv.add(new Op.IBConv(k, e));
            }
        }
        List<Op> withIdentity = new ArrayList<>(ibconv);
        withIdentity.add(new Op.Identity());

        List<Layer> layers = new ArrayList<>();
        int cin = stem;
        int h = (o.resolution() + o.stemStride() - 1) / o.stemStride();
        for (int s = 0; s < stages.length; s++) {
            int cout = ch(stages[s][0], o.width());
            int repeats = o.maxLayersPerStage() > 0 ? Math.min(o.maxLayersPerStage(), stages[s][1]) : stages[s][1];
            for (int r = 0; r < repeats; r++) {
                int stride = r == 0 ? stages[s][2] : 1;
                List<Op> ops = s == 0 ? firstOps : (r == 0 ? ibconv : withIdentity);
                Layer l = new Layer(layers.size(), s, cin, cout, stride, h, ops);
                layers.add(l);
                h = l.outHeight();
                cin = cout;
            }
        }
        return new SearchSpace(o.family(), o.resolution(), o.inChannels(), stem, o.stemStride(), layers, ch(1280, o.width()), o.classes());
    }

    /**
     * {@code shufflenetv2}: the SPOS ShuffleNetV2 supernet (Guo et al., section 4; DA-NAS "Shuffle"): 20 layers in four
     * stages of 4, 4, 8, 4, each starting with stride 2; choice blocks Shuffle 3x3, 5x5, 7x7 and Xception 3x3; 4^20 ~ 1.1e12
     * architectures. {@code shuffle-mobile}: the same layers with DA-NAS's "Shuffle+Mobile" op set (section 4.1): Shuffle
     * and Xception units with kernels 3, 5, 7 plus IBConv with expansion 1, 3, 6 and kernels 3, 5; 12^20 ~ 3.8e21.
     * Channels scale as {@code max(8, multiple of 4 below c * width)} so every unit splits evenly.
     */
    private static SearchSpace shuffle(Options o) {
        boolean mobile = o.family().equals("shuffle-mobile");
        List<Op> ops = new ArrayList<>();
        for (int k : new int[]{3, 5, 7}) {
            ops.add(new Op.Shuffle(k));
        }
        for (int k : mobile ? new int[]{3, 5, 7} : new int[]{3}) {
            ops.add(new Op.Xception(k));
        }
        if (mobile) {
            for (int k : new int[]{3, 5}) {
                for (int e : new int[]{1, 3, 6}) {
                    ops.add(new Op.IBConv(k, e));
                }
            }
        }
        int stem = ch4(16, o.width());
        List<Layer> layers = new ArrayList<>();
        int cin = stem;
        int h = (o.resolution() + o.stemStride() - 1) / o.stemStride();
        for (int s = 0; s < SHUFFLE_STAGES.length; s++) {
            int cout = ch4(SHUFFLE_STAGES[s][0], o.width());
            int repeats = o.maxLayersPerStage() > 0 ? Math.min(o.maxLayersPerStage(), SHUFFLE_STAGES[s][1]) : SHUFFLE_STAGES[s][1];
            for (int r = 0; r < repeats; r++) {
                Layer l = new Layer(layers.size(), s, cin, cout, r == 0 ? 2 : 1, h, ops);
                layers.add(l);
                h = l.outHeight();
                cin = cout;
            }
        }
        return new SearchSpace(o.family(), o.resolution(), o.inChannels(), stem, o.stemStride(), layers, ch4(1024, o.width()), o.classes());
    }

    static int ch4(int c, double width) {
        return Math.max(8, ((int) (c * width)) / 4 * 4);
    }

    static int ch(int c, double width) {
        return Math.max(8, (int) (c * width));
    }
}
