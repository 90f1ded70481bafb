package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

/**
 * Memory access cost in millions of elements (ShuffleNetV2, Ma et al. 2018, section 2: a convolution reads its input feature
 * map and its weights and writes its output feature map, {@code MAC = h_in w_in c_in + h_out w_out c_out + weights}), summed
 * over an op's convolutions; BatchNorm and activations are taken as fused into them. DSO-NAS's adaptive MAC budget (Eq. 18)
 * scales each op's sparsity weight by this.
 */
public final class MacCostModel implements CostModel {

    @Override
    public String unit() {
        return "mmac";
    }

    @Override
    public double opCost(SearchSpace space, int layer, Op op) {
        return op(space.layer(layer), op) / 1e6;
    }

    @Override
    public double fixedCost(SearchSpace space) {
        long stemOut = (space.resolution() + space.stemStride() - 1) / space.stemStride();
        long r = space.resolution();
        double mac = conv(r, space.inChannels(), stemOut, space.stemChannels(), 9L * space.inChannels() * space.stemChannels());
        long h = space.headHeight();
        mac += conv(h, space.lastChannels(), h, space.headChannels(), (long) space.lastChannels() * space.headChannels());
        mac += space.headChannels() + space.classes() + (long) space.headChannels() * space.classes();
        return mac / 1e6;
    }

    /** Elements one convolution moves: input map, output map, weights. */
    private static double conv(long hin, long cin, long hout, long cout, long weights) {
        return hin * hin * cin + hout * hout * cout + weights;
    }

    private static double op(Layer l, Op op) {
        long hin = l.inHeight();
        long hout = l.outHeight();
        if (op instanceof Op.Identity) {
            return 0;
        }
        if (op instanceof Op.IBConv ib) {
            long cin = l.inChannels();
            long mid = cin * ib.expansion();
            long k2 = (long) ib.kernel() * ib.kernel();
            double mac = ib.expansion() == 1 ? 0 : conv(hin, cin, hin, mid, cin * mid);
            mac += conv(hin, mid, hout, mid, mid * k2);
            return mac + conv(hout, mid, hout, l.outChannels(), mid * l.outChannels());
        }
        long in = l.shuffleBranchIn();
        long out = l.shuffleBranchOut();
        long mid = l.shuffleMid();
        long k = op instanceof Op.Shuffle s ? s.kernel() : ((Op.Xception) op).kernel();
        double mac;
        if (op instanceof Op.Shuffle) {
            mac = conv(hin, in, hin, mid, in * mid) + conv(hin, mid, hout, mid, mid * k * k) + conv(hout, mid, hout, out, mid * out);
        } else {
            // dw(in) with the layer's stride, pw in->mid, dw(mid), pw mid->mid, dw(mid), pw mid->out
            mac = conv(hin, in, hout, in, in * k * k) + conv(hout, in, hout, mid, in * mid) + conv(hout, mid, hout, mid, mid * k * k)
                    + conv(hout, mid, hout, mid, mid * mid) + conv(hout, mid, hout, mid, mid * k * k) + conv(hout, mid, hout, out, mid * out);
        }
        if (l.stride() == 2) {
            long cin = l.inChannels();
            mac += conv(hin, cin, hout, cin, cin * k * k) + conv(hout, cin, hout, cin, cin * cin);
        }
        return mac;
    }
}
