package io.sparknas.supernet.space;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SearchSpacesTest {

    static SearchSpace imagenet(String family) {
        return SearchSpaces.build(new SearchSpaces.Options(family, 1.0, 224, 3, 2, 1000));
    }

    @Test
    void basicImageNetSpaceHasPadNasSize() {
        SearchSpace s = imagenet("mobilenetv2");
        assertEquals(22, s.size());
        int three = 0, six = 0, seven = 0;
        for (Layer l : s.layers()) {
            switch (l.candidates().size()) {
                case 3 -> three++;
                case 6 -> six++;
                case 7 -> seven++;
                default -> throw new AssertionError("layer " + l.index() + " has " + l.candidates().size());
            }
        }
        assertEquals(List.of(1, 6, 15), List.of(three, six, seven));
        // PAD-NAS section 4.1: 3 x 6^6 x 7^15 ~ 6.64e17
        assertEquals(Math.log10(3 * Math.pow(6, 6) * Math.pow(7, 15)), s.log10Size(), 1e-9);
        assertEquals(6.64e17, Math.pow(10, s.log10Size()), 0.01e17);
    }

    @Test
    void largeImageNetSpaceHasPadNasSize() {
        SearchSpace s = imagenet("mobilenetv2-large");
        assertEquals(Math.log10(3 * Math.pow(18, 6) * Math.pow(19, 15)), s.log10Size(), 1e-9);
        assertEquals(1.55e27, Math.pow(10, s.log10Size()), 0.01e27);
        assertEquals(16, s.stemChannels());
        assertEquals(24, s.layer(1).outChannels());
    }

    @Test
    void shapesFollowTable1() {
        SearchSpace s = imagenet("mobilenetv2");
        assertEquals(32, s.stemChannels());
        // input heights of the first layer of each stage: 112 (SBS 16), 112 (32, s2), 56 (40), 28 (80), 14 (96), 14 (192), 7 (320)
        int[] firstOfStage = {0, 1, 5, 9, 13, 17, 21};
        int[] inHeight = {112, 112, 56, 28, 14, 14, 7};
        int[] out = {16, 32, 40, 80, 96, 192, 320};
        int[] stride = {1, 2, 2, 2, 1, 2, 1};
        for (int k = 0; k < firstOfStage.length; k++) {
            Layer l = s.layer(firstOfStage[k]);
            assertEquals(inHeight[k], l.inHeight(), "layer " + l.index());
            assertEquals(out[k], l.outChannels());
            assertEquals(stride[k], l.stride());
            assertEquals(k, l.stage());
        }
        assertEquals(7, s.headHeight());
        assertEquals(320, s.lastChannels());
        assertEquals(1280, s.headChannels());
        // first searchable layer: expansion 1 only
        assertTrue(s.layer(0).candidates().stream().allMatch(op -> op instanceof Op.IBConv ib && ib.expansion() == 1));
    }

    @Test
    void identityOnlyWhereTheLayerKeepsItsShape() {
        SearchSpace s = imagenet("mobilenetv2");
        for (Layer l : s.layers()) {
            boolean hasId = l.candidates().contains(new Op.Identity());
            assertEquals(l.keepsShape(), hasId, "layer " + l.index());
        }
        Layer l1 = s.layer(1);
        assertThrows(IllegalArgumentException.class, () -> l1.withCandidates(List.of(new Op.Identity())));
    }

    @Test
    void smallInputsScale() {
        SearchSpace s = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.5, 28, 1, 1, 10));
        assertEquals(16, s.stemChannels());
        assertEquals(28, s.layer(0).inHeight());
        assertEquals(8, s.layer(0).outChannels(), "max(8, 16 * 0.5)");
        assertEquals(2, s.headHeight(), "28 -> 14 -> 7 -> 4 -> 2 with 'same' padding");
        assertEquals(640, s.headChannels());
        assertEquals(10, s.classes());
    }

    @Test
    void hashIsStableAndFollowsPruning() {
        SearchSpace a = imagenet("mobilenetv2");
        SearchSpace b = imagenet("mobilenetv2");
        assertEquals(a.hash(), b.hash());
        SearchSpace pruned = a.withCandidates(3, a.layer(3).candidates().subList(0, 2));
        assertNotEquals(a.hash(), pruned.hash());
        assertEquals(a.log10Size() - Math.log10(7) + Math.log10(2), pruned.log10Size(), 1e-9);
        assertNotEquals(a.hash(), imagenet("mobilenetv2-large").hash());
        assertThrows(IllegalArgumentException.class, () -> a.withCandidates(3, List.of(new Op.IBConv(9, 9))));
        assertFalse(a.describe().isEmpty());
    }

    @Test
    void shuffleSpacesFollowSpos() {
        SearchSpace s = imagenet("shufflenetv2");
        assertEquals(20, s.size());
        assertEquals(Math.log10(Math.pow(4, 20)), s.log10Size(), 1e-9);
        assertEquals(16, s.stemChannels());
        int[] outs = {64, 160, 320, 640};
        int[] firsts = {0, 4, 8, 16};
        for (int st = 0; st < 4; st++) {
            Layer first = s.layer(firsts[st]);
            assertEquals(2, first.stride(), "stage " + st + " starts with stride 2");
            assertEquals(outs[st], first.outChannels());
        }
        assertEquals(56 * 2, s.layer(0).inHeight());
        assertEquals(7, s.headHeight());
        assertEquals(640, s.lastChannels());
        assertEquals(1024, s.headChannels());
        assertEquals(List.of("s3", "s5", "s7", "x3"), s.layer(5).candidates().stream().map(Op::code).toList());
        // at stride 1 half of the 160 channels enter the branch and 80 come out; at stride 2 all 64 enter and 160 - 64 come out
        assertEquals(80, s.layer(5).shuffleBranchIn());
        assertEquals(80, s.layer(5).shuffleBranchOut());
        assertEquals(64, s.layer(4).shuffleBranchIn());
        assertEquals(96, s.layer(4).shuffleBranchOut());
        SearchSpace sm = imagenet("shuffle-mobile");
        assertEquals(20 * Math.log10(12), sm.log10Size(), 1e-9);
        // no identity in the shuffle spaces; channel counts stay divisible by 4 at any width
        SearchSpace small = SearchSpaces.build(new SearchSpaces.Options("shuffle-mobile", 0.3, 28, 1, 1, 10));
        for (Layer l : small.layers()) {
            assertTrue(l.outChannels() % 4 == 0 && !l.candidates().contains(new Op.Identity()), l.toString());
        }
        IllegalArgumentException e = Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Layer(0, 0, 9, 9, 1, 8, List.of(new Op.Shuffle(3))));
        assertTrue(e.getMessage().contains("ShuffleNetV2"), e.getMessage());
        assertEquals(new Op.Xception(5), Op.parse("xception_k5"));
    }
}
