package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

/**
 * Multiply-accumulates and parameters of the network's parts, counted the way the NAS papers report "FLOPs"
 * (multiply-adds of convolutions and the classifier; BatchNorm, activations and pooling not counted as MACs).
 * Parameters include BatchNorm's gamma and beta (not its running statistics) and the classifier's bias, as DL4J and PyTorch count them.
 */
final class ConvArithmetic {

    private ConvArithmetic() {
    }

    /** {MACs, params} of one op at one layer. */
    static long[] op(Layer l, Op op) {
        if (op instanceof Op.Identity) {
            return new long[]{0, 0};
        }
        if (Op.isShuffleUnit(op)) {
            return shuffle(l, op);
        }
        Op.IBConv ib = (Op.IBConv) op;
        long cin = l.inChannels();
        long cout = l.outChannels();
        long mid = cin * ib.expansion();
        long hin = l.inHeight();
        long hout = l.outHeight();
        long k = ib.kernel();
        long macs = 0;
        long params = 0;
        if (ib.expansion() != 1) {
            macs += hin * hin * cin * mid;
            params += cin * mid + 2 * mid;
        }
        macs += hout * hout * mid * k * k;
        params += mid * k * k + 2 * mid;
        macs += hout * hout * mid * cout;
        params += mid * cout + 2 * cout;
        return new long[]{macs, params};
    }

    /** {MACs, params} of a ShuffleNetV2 unit: main branch, plus the projection branch at stride 2 (split and concat cost nothing). */
    private static long[] shuffle(Layer l, Op op) {
        long in = l.shuffleBranchIn();
        long out = l.shuffleBranchOut();
        long mid = l.shuffleMid();
        long hin = l.inHeight();
        long hout = l.outHeight();
        long macs;
        long params;
        if (op instanceof Op.Shuffle s) {
            long k2 = (long) s.kernel() * s.kernel();
            macs = hin * hin * in * mid + hout * hout * mid * k2 + hout * hout * mid * out;
            params = in * mid + 2 * mid + mid * k2 + 2 * mid + mid * out + 2 * out;
        } else {
            long k2 = (long) ((Op.Xception) op).kernel() * ((Op.Xception) op).kernel();
            // dw(in) s, pw in->mid, dw(mid), pw mid->mid, dw(mid), pw mid->out; all at the output resolution
            macs = hout * hout * (in * k2 + in * mid + mid * k2 + mid * mid + mid * k2 + mid * out);
            params = in * k2 + 2 * in + in * mid + 2 * mid + mid * k2 + 2 * mid + mid * mid + 2 * mid + mid * k2 + 2 * mid + mid * out + 2 * out;
        }
        if (l.stride() == 2) {
            long cin = l.inChannels();
            long k = op instanceof Op.Shuffle s ? s.kernel() : ((Op.Xception) op).kernel();
            macs += hout * hout * (cin * k * k + cin * cin);
            params += cin * k * k + 2 * cin + cin * cin + 2 * cin;
        }
        return new long[]{macs, params};
    }

    /** {MACs, params} of the stem (3x3 conv + BN) and the head (1x1 conv + BN, pooling, classifier with bias). */
    static long[] fixed(SearchSpace s) {
        long stemOut = (s.resolution() + s.stemStride() - 1) / s.stemStride();
        long macs = stemOut * stemOut * 9L * s.inChannels() * s.stemChannels();
        long params = 9L * s.inChannels() * s.stemChannels() + 2L * s.stemChannels();
        long h = s.headHeight();
        macs += h * h * (long) s.lastChannels() * s.headChannels();
        params += (long) s.lastChannels() * s.headChannels() + 2L * s.headChannels();
        macs += (long) s.headChannels() * s.classes();
        params += (long) s.headChannels() * s.classes() + s.classes();
        return new long[]{macs, params};
    }
}
