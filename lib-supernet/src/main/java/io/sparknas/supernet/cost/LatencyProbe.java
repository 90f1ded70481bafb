package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One entry of a latency lookup table: a part of the network at one input shape. Layers with the same shape and op share
 * one probe, so a table measured for one space serves every space (and every width of it) whose shapes it covers.
 *
 * @param part        {@code stem}, {@code op} (a candidate op of a searchable layer), {@code head} (1x1 conv, BN, pooling)
 *                    or {@code classifier} (dense softmax)
 * @param op          the op's {@link Op#name()} for {@code op}; the part name otherwise
 * @param inHeight    input height (= width); 1 for the classifier
 * @param inChannels  input channels (features for the classifier)
 * @param outChannels output channels (classes for the classifier)
 * @param stride      stride (1 for head and classifier)
 */
public record LatencyProbe(String part, String op, int inHeight, int inChannels, int outChannels, int stride) implements Serializable {

    public static final Set<String> PARTS = Set.of("stem", "op", "head", "classifier");

    public LatencyProbe {
        if (!PARTS.contains(part)) {
            throw new IllegalArgumentException("Unknown latency probe part '" + part + "'; expected one of " + PARTS);
        }
        if (inHeight < 1 || inChannels < 1 || outChannels < 1 || stride < 1) {
            throw new IllegalArgumentException("Bad latency probe shape: " + inHeight + "x" + inHeight + "x" + inChannels + " -> " + outChannels
                    + " stride " + stride);
        }
    }

    /** The probe of an op at a layer. */
    public static LatencyProbe of(Layer l, Op op) {
        return new LatencyProbe("op", op.name(), l.inHeight(), l.inChannels(), l.outChannels(), l.stride());
    }

    public static LatencyProbe stem(SearchSpace s) {
        return new LatencyProbe("stem", "stem", s.resolution(), s.inChannels(), s.stemChannels(), s.stemStride());
    }

    public static LatencyProbe head(SearchSpace s) {
        return new LatencyProbe("head", "head", s.headHeight(), s.lastChannels(), s.headChannels(), 1);
    }

    public static LatencyProbe classifier(SearchSpace s) {
        return new LatencyProbe("classifier", "classifier", 1, s.headChannels(), s.classes(), 1);
    }

    /** Every distinct probe of a space (identity excluded: it costs nothing), stem first. */
    public static List<LatencyProbe> of(SearchSpace s) {
        Set<LatencyProbe> out = new LinkedHashSet<>();
        out.add(stem(s));
        for (Layer l : s.layers()) {
            for (Op op : l.candidates()) {
                if (!(op instanceof Op.Identity)) {
                    out.add(of(l, op));
                }
            }
        }
        out.add(head(s));
        out.add(classifier(s));
        return new ArrayList<>(out);
    }

    /** A short description for messages, e.g. {@code ibconv_k3_e6 at 14x14x24->32 stride 2}. */
    public String describe() {
        return op + " at " + inHeight + "x" + inHeight + "x" + inChannels + "->" + outChannels + " stride " + stride;
    }
}
