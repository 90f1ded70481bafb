package io.sparknas.supernet.space;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A layer-wise search space: a fixed stem, an ordered list of searchable {@link Layer}s with per-layer candidate ops,
 * and a fixed head (1x1 conv, global average pooling, classifier). Immutable; pruning returns a new space.
 *
 * @param family        family name ({@code mobilenetv2}, {@code mobilenetv2-large})
 * @param resolution    input height = width
 * @param inChannels    input channels
 * @param stemChannels  channels of the stem's 3x3 conv
 * @param stemStride    stride of the stem conv
 * @param layers        searchable layers
 * @param headChannels  channels of the head's 1x1 conv
 * @param classes       output classes
 */
public record SearchSpace(String family, int resolution, int inChannels, int stemChannels, int stemStride, List<Layer> layers,
                          int headChannels, int classes) implements Serializable {

    public SearchSpace {
        layers = List.copyOf(layers);
    }

    public int size() {
        return layers.size();
    }

    public Layer layer(int i) {
        return layers.get(i);
    }

    /** log10 of the number of architectures (product of the candidate counts). */
    public double log10Size() {
        double s = 0;
        for (Layer l : layers) {
            s += Math.log10(l.candidates().size());
        }
        return s;
    }

    /** The same space with layer {@code i} restricted to {@code ops} (each must be a current candidate). */
    public SearchSpace withCandidates(int i, List<Op> ops) {
        for (Op op : ops) {
            if (!layers.get(i).candidates().contains(op)) {
                throw new IllegalArgumentException("op " + op.name() + " is not a candidate of layer " + i);
            }
        }
        List<Layer> copy = new ArrayList<>(layers);
        copy.set(i, layers.get(i).withCandidates(ops));
        return new SearchSpace(family, resolution, inChannels, stemChannels, stemStride, copy, headChannels, classes);
    }

    /** Height of the feature map entering the head. */
    public int headHeight() {
        return layers.isEmpty() ? (resolution + stemStride - 1) / stemStride : layers.get(layers.size() - 1).outHeight();
    }

    public int lastChannels() {
        return layers.isEmpty() ? stemChannels : layers.get(layers.size() - 1).outChannels();
    }

    /** A readable description of everything that defines the space (shapes and candidates), the input of {@link #hash()}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(family).append(" in ").append(resolution).append('x').append(resolution).append('x')
                .append(inChannels).append(" stem ").append(stemChannels).append('/').append(stemStride);
        for (Layer l : layers) {
            sb.append("\n  L").append(l.index()).append(" s").append(l.stage()).append(' ').append(l.inChannels()).append("->")
                    .append(l.outChannels()).append(" /").append(l.stride()).append(" @").append(l.inHeight()).append(' ');
            for (Op op : l.candidates()) {
                sb.append(op.code()).append(' ');
            }
        }
        return sb.append("\n head ").append(headChannels).append(" classes ").append(classes).toString();
    }

    /** Stable hash of the space (shapes and current candidates): artifacts record it, readers compare it. */
    public String hash() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(describe().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
