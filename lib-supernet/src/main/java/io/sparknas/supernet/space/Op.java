package io.sparknas.supernet.space;

import java.util.regex.Pattern;
import java.util.regex.Matcher;
import java.io.Serializable;

/**
 * One candidate operation of a searchable layer. The set of kinds is closed: the supernet, the cost models and the
 * export all switch over it.
 */
public sealed interface Op extends Serializable permits Op.IBConv, Op.Shuffle, Op.Xception, Op.Identity {

    /** Stable name, e.g. {@code ibconv_k3_e6}, {@code identity}; used in artifacts and reports. */
    String name();

    /** Short code used in architecture ids, e.g. {@code k3e6}, {@code id}. */
    String code();

    /**
     * MobileNetV2 inverted bottleneck (PAD-NAS Table 2, "IBConv_KX_EY"; ProxylessNAS MBConv): 1x1 expansion conv to
     * {@code e * cin} channels (omitted when {@code e == 1}), BN, ReLU6; k x k depthwise conv with the layer's stride, BN, ReLU6;
     * 1x1 projection conv, BN (linear). A residual connection is added outside the op when stride is 1 and cin == cout.
     */
    record IBConv(int kernel, int expansion) implements Op {
        public IBConv {
            if (kernel < 1 || kernel % 2 == 0 || expansion < 1) {
                throw new IllegalArgumentException("IBConv needs an odd kernel >= 1 and expansion >= 1: k" + kernel + " e" + expansion);
            }
        }

        @Override
        public String name() {
            return "ibconv_k" + kernel + "_e" + expansion;
        }

        @Override
        public String code() {
            return "k" + kernel + "e" + expansion;
        }
    }

    /**
     * ShuffleNetV2 unit as an SPOS choice block ("Shuffle3x3/5x5/7x7"; DA-NAS's "Shuffle" space): branch 1x1 conv, BN, ReLU;
     * k x k depthwise conv with the layer's stride, BN; 1x1 conv, BN, ReLU. At stride 1 the input's odd channels go through
     * the branch and its even channels pass unchanged (SPOS's channel shuffle before the split); the output is
     * {@code concat(passed, branch)}. At stride 2 the whole input goes through the branch and through a projection branch
     * (k x k depthwise stride 2, BN; 1x1 conv, BN, ReLU); the output is {@code concat(projection, branch)}. The branch's
     * middle width is half the layer's output channels.
     */
    record Shuffle(int kernel) implements Op {
        public Shuffle {
            if (kernel < 1 || kernel % 2 == 0) {
                throw new IllegalArgumentException("Shuffle needs an odd kernel >= 1: k" + kernel);
            }
        }

        @Override
        public String name() {
            return "shuffle_k" + kernel;
        }

        @Override
        public String code() {
            return "s" + kernel;
        }
    }

    /**
     * ShuffleNetV2 Xception unit (SPOS "Xception"; DA-NAS's second shuffle block, with kernels 3, 5, 7): the branch is three
     * times (k x k depthwise conv, BN; 1x1 conv, BN, ReLU), the first depthwise with the layer's stride; split, concat and
     * projection as {@link Shuffle}.
     */
    record Xception(int kernel) implements Op {
        public Xception {
            if (kernel < 1 || kernel % 2 == 0) {
                throw new IllegalArgumentException("Xception needs an odd kernel >= 1: k" + kernel);
            }
        }

        @Override
        public String name() {
            return "xception_k" + kernel;
        }

        @Override
        public String code() {
            return "x" + kernel;
        }
    }

    /** Whether the op is a ShuffleNetV2 unit (split or projection, concat). */
    static boolean isShuffleUnit(Op op) {
        return op instanceof Shuffle || op instanceof Xception;
    }

    /** Skip the layer (output = input); only where the layer keeps its shape (stride 1, cin == cout). */
    record Identity() implements Op {
        @Override
        public String name() {
            return "identity";
        }

        @Override
        public String code() {
            return "id";
        }
    }

    /**
     * The op with this {@link #name()} or {@link #code()}: the one parser of ops, for artifacts (names) and architecture ids
     * (codes) alike.
     */
    public static Op parse(String text) {
        Matcher m;
        if (text.equals("identity") || text.equals("id")) {
            return new Identity();
        }
        if ((m = Pattern.compile("ibconv_k(\\d+)_e(\\d+)|k(\\d+)e(\\d+)").matcher(text)).matches()) {
            return m.group(1) != null ? new IBConv(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)))
                    : new IBConv(Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)));
        }
        if ((m = Pattern.compile("shuffle_k(\\d+)|s(\\d+)").matcher(text)).matches()) {
            return new Shuffle(Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2)));
        }
        if ((m = Pattern.compile("xception_k(\\d+)|x(\\d+)").matcher(text)).matches()) {
            return new Xception(Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2)));
        }
        throw new IllegalArgumentException("Unknown op '" + text + "' (expected a name ibconv_k<K>_e<E>, shuffle_k<K>, xception_k<K>, "
                + "identity or a code k<K>e<E>, s<K>, x<K>, id)");
    }
}
