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
    void memoryAccessCostOfAnIbconvByHand() {
        // layer 1, k3e3 (16 -> 48 -> 32, 112 -> 56): pw 112*112*16 + 112*112*48 + 16*48; dw 112*112*48 + 56*56*48 + 48*9;
        // pwl 56*56*48 + 56*56*32 + 48*32
        double mac = 112 * 112 * 16 + 112 * 112 * 48 + 16 * 48 + 112 * 112 * 48 + 56 * 56 * 48 + 48 * 9 + 56 * 56 * 48 + 56 * 56 * 32 + 48 * 32;
        assertEquals(mac / 1e6, new MacCostModel().opCost(space, 1, new Op.IBConv(3, 3)), 1e-12);
        assertEquals(0.0, new MacCostModel().opCost(space, 2, new Op.Identity()));
        assertTrue(new MacCostModel().opCost(space, 1, new Op.IBConv(7, 6)) > new MacCostModel().opCost(space, 1, new Op.IBConv(3, 3)));
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

    @Test
    void shuffleUnitsByHand() {
        SearchSpace s = SearchSpaces.build(new SearchSpaces.Options("shufflenetv2", 1.0, 224, 3, 2, 1000));
        // layer 1: stride 1, 64 -> 64 at 56x56: 32 channels enter the branch, mid 32, 32 out
        // pw 56*56*32*32 + dw 56*56*32*9 + pw 56*56*32*32 = 3136 * 2336
        assertEquals(3136 * 2336 / 1e6, new FlopsCostModel().opCost(s, 1, new Op.Shuffle(3)), 1e-9);
        // params 32*32 + 64 + 32*9 + 64 + 32*32 + 64 = 2,528
        assertEquals(2_528 / 1e6, new ParamsCostModel().opCost(s, 1, new Op.Shuffle(3)), 1e-12);
        // layer 0: stride 2, 16 -> 64 at 112 -> 56, k3: branch pw 112*112*16*32, dw 56*56*32*9, pw 56*56*32*48;
        // projection dw 56*56*16*9, pw 56*56*16*16
        long macs = 112L * 112 * 16 * 32 + 3136L * 32 * 9 + 3136L * 32 * 48 + 3136L * 16 * 9 + 3136L * 16 * 16;
        assertEquals(macs / 1e6, new FlopsCostModel().opCost(s, 0, new Op.Shuffle(3)), 1e-9);
        // xception at layer 1: dw 32*9, pw 32*32, dw 32*9, pw 32*32, dw 32*9, pw 32*32, all at 56x56
        assertEquals(3136L * (3 * 32 * 9 + 3 * 32 * 32) / 1e6, new FlopsCostModel().opCost(s, 1, new Op.Xception(3)), 1e-9);
        // the SPOS space's architectures are ShuffleNetV2-1.0x-sized: all Shuffle3x3 ~ 0.3 GFLOPs
        double all3 = new FlopsCostModel().cost(s, Arch.ofIndices(s, new int[20]));
        assertTrue(all3 > 200 && all3 < 400, "MFLOPs " + all3);
    }
}
