package io.sparknas.supernet.net;

import java.util.Arrays;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InputType.InputTypeConvolutional;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Selects the even ({@code parity 0}) or odd ({@code parity 1}) channels of an NCHW activation: SPOS's channel-shuffle split
 * of a stride-1 ShuffleNetV2 unit (even channels pass, odd ones enter the branch) in an exported ComputationGraph.
 * (DL4J's own {@code SubsetVertex} selects contiguous ranges only, and reports a negative channel count for CNN inputs.)
 */
public final class ChannelParityVertex extends GraphVertex {

    private final int parity;

    public ChannelParityVertex(@JsonProperty("parity") int parity) {
        if (parity != 0 && parity != 1) {
            throw new IllegalArgumentException("parity must be 0 (even channels) or 1 (odd channels): " + parity);
        }
        this.parity = parity;
    }

    public int getParity() {
        return parity;
    }

    @Override
    public ChannelParityVertex clone() {
        return new ChannelParityVertex(parity);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelParityVertex v && v.parity == parity;
    }

    @Override
    public int hashCode() {
        return 31 + parity;
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 1;
    }

    @Override
    public int maxVertexInputs() {
        return 1;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx, INDArray paramsView,
                                                                      boolean initializeParams, DataType networkDatatype) {
        return new ChannelParityGraphVertex(graph, name, idx, parity, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) throws InvalidInputTypeException {
        if (vertexInputs.length != 1 || !(vertexInputs[0] instanceof InputTypeConvolutional c) || c.getChannels() % 2 != 0) {
            throw new InvalidInputTypeException("ChannelParityVertex needs one convolutional input with an even channel count, got "
                    + Arrays.toString(vertexInputs));
        }
        return InputType.convolutional(c.getHeight(), c.getWidth(), c.getChannels() / 2);
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        return new LayerMemoryReport.Builder(null, ChannelParityVertex.class, inputTypes[0], getOutputType(-1, inputTypes))
                .standardMemory(0, 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }
}
