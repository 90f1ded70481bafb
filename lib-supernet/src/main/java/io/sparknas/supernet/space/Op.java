package io.sparknas.supernet.space;

import java.io.Serializable;

/**
 * One candidate operation of a searchable layer. The set of kinds is closed: the supernet, the cost models and the
 * export all switch over it.
 */
public sealed interface Op extends Serializable permits Op.IBConv, Op.Identity {

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

    /** The op with this name, for reading artifacts back. */
    static Op parse(String name) {
        if (name.equals("identity")) {
            return new Identity();
        }
        if (name.matches("ibconv_k\\d+_e\\d+")) {
            String[] p = name.substring("ibconv_k".length()).split("_e");
            return new IBConv(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
        }
        throw new IllegalArgumentException("Unknown op '" + name + "' (expected ibconv_k<K>_e<E> or identity)");
    }
}
