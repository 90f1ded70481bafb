package io.sparknas.supernet.net;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The runtime of {@link ChannelParityVertex}: forward takes every other channel, backward scatters the gradient back. */
final class ChannelParityGraphVertex extends BaseGraphVertex {

    private final int parity;
    private long[] inputShape;

    ChannelParityGraphVertex(ComputationGraph graph, String name, int vertexIndex, int parity, DataType dataType) {
        super(graph, name, vertexIndex, null, null, dataType);
        this.parity = parity;
    }

    @Override
    public boolean hasLayer() {
        return false;
    }

    @Override
    public Layer getLayer() {
        return null;
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoForward()) {
            throw new IllegalStateException("Cannot do forward pass: input not set");
        }
        inputShape = inputs[0].shape().clone();
        INDArray out = inputs[0].get(NDArrayIndex.all(), NDArrayIndex.interval(parity, 2, inputShape[1]), NDArrayIndex.all(), NDArrayIndex.all());
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, out, 'c');
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoBackward()) {
            throw new IllegalStateException("Cannot do backward pass: error not set");
        }
        INDArray out = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), inputShape, 'c');
        out.assign(0);
        out.get(NDArrayIndex.all(), NDArrayIndex.interval(parity, 2, inputShape[1]), NDArrayIndex.all(), NDArrayIndex.all()).assign(epsilon);
        return new Pair<>(null, new INDArray[]{out});
    }

    @Override
    public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
        if (backpropGradientsViewArray != null) {
            throw new IllegalStateException("ChannelParityVertex has no parameters");
        }
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState, int minibatchSize) {
        return maskArrays == null || maskArrays.length == 0 ? null : new Pair<>(maskArrays[0], currentMaskState);
    }

    @Override
    public String toString() {
        return "ChannelParityVertex(name=" + getVertexName() + ", parity=" + parity + ")";
    }
}
