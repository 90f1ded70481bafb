package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CostModelTest {

    final SearchSpace space = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 1.0, 224, 3, 2, 1000));

    @Test
    void ibconvAtAKnownShapeByHand() {
        // layer 1: 16 -> 32 channels, stride 2, input 112x112; k3e3: mid 48
        // pw 112*112*16*48 = 9,633,792; dw 56*56*48*9 = 1,354,752; pwl 56*56*48*32 = 4,816,896
        assertEquals(15_805_440 / 1e6, new FlopsCostModel().opCost(space, 1, new Op.IBConv(3, 3)), 1e-9);
        // params 16*48 + 2*48 + 48*9 + 2*48 + 48*32 + 2*32 = 2,992
        assertEquals(2_992 / 1e6, new ParamsCostModel().opCost(space, 1, new Op.IBConv(3, 3)), 1e-12);
        // expansion 1 (layer 0, 32 -> 16 at 112): no expansion conv; dw 112*112*32*49 + pwl 112*112*32*16
        assertEquals((112 * 112 * 32 * 49 + 112 * 112 * 32 * 16) / 1e6, new FlopsCostModel().opCost(space, 0, new Op.IBConv(7, 1)), 1e-9);
        assertEquals(0.0, new FlopsCostModel().opCost(space, 2, new Op.Identity()));
    }

    @Test
    void stemAndHeadByHand() {
        // stem 112*112*27*32; head 7*7*320*1280; fc 1280*1000
        double macs = 112 * 112 * 27 * 32 + 7 * 7 * 320 * 1280 + 1280 * 1000;
        assertEquals(macs / 1e6, new FlopsCostModel().fixedCost(space), 1e-9);
        double params = 27 * 32 + 64 + 320 * 1280 + 2 * 1280 + 1280 * 1000 + 1000;
        assertEquals(params / 1e6, new ParamsCostModel().fixedCost(space), 1e-12);
    }

    @Test
    void mobileNetSizedArchitecturesCostAsThePapersReport() {
        // every layer k3e6 (identity-free): a MobileNetV2-like network; ProxylessNAS-space models are 300-600 MFLOPs, 3-7 M params
        int[] idx = new int[22];
        for (int i = 1; i < 22; i++) {
            idx[i] = space.layer(i).candidates().indexOf(new Op.IBConv(3, 6));
        }
        Arch a = Arch.ofIndices(space, idx);
        double mflops = new FlopsCostModel().cost(space, a);
        double mparams = new ParamsCostModel().cost(space, a);
        assertTrue(mflops > 300 && mflops < 700, "MFLOPs " + mflops);
        assertTrue(mparams > 3 && mparams < 8, "M params " + mparams);
        // an architecture with identities where allowed is cheaper
        int[] skip = idx.clone();
        for (int i = 0; i < 22; i++) {
            int id = space.layer(i).candidates().indexOf(new Op.Identity());
            if (id >= 0) {
                skip[i] = id;
            }
        }
        assertTrue(new FlopsCostModel().cost(space, Arch.ofIndices(space, skip)) < mflops);
    }
}
