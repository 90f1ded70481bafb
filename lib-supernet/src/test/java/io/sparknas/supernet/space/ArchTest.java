package io.sparknas.supernet.space;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ArchTest {

    final SearchSpace space = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 1.0, 224, 3, 2, 1000));

    @Test
    void idRoundTripsAndSurvivesPruning() {
        int[] idx = new int[22];
        idx[2] = 6;
        idx[3] = 3;
        Arch a = Arch.ofIndices(space, idx);
        assertEquals("k3e1-k3e3-id-k5e6", a.id().substring(0, "k3e1-k3e3-id-k5e6".length()));
        assertEquals(a, Arch.parse(a.id()));
        assertArrayEquals(idx, a.indices(space));
        SearchSpace pruned = space.withCandidates(3, List.of(new Op.IBConv(5, 6), new Op.IBConv(3, 3)));
        int[] after = a.indices(pruned);
        assertEquals(0, after[3], "same op, new position");
        a.requireIn(pruned);
    }

    @Test
    void multiOpLayersForDsoNas() {
        Arch m = Arch.multi(List.of(List.of(new Op.IBConv(3, 1)), List.of(new Op.IBConv(3, 3), new Op.IBConv(5, 6)), List.of()));
        assertEquals("k3e1-k3e3+k5e6-0", m.id());
        assertEquals(m, Arch.parse(m.id()));
        assertFalse(m.isSinglePath());
        assertThrows(IllegalStateException.class, () -> m.op(1));
    }

    @Test
    void rejectsOpsOutsideTheSpace() {
        Arch bad = Arch.parse("k9e9" + "-k3e3".repeat(21));
        assertThrows(IllegalArgumentException.class, () -> bad.requireIn(space));
        assertThrows(IllegalArgumentException.class, () -> Arch.parse("k3e1-xx"));
    }

    @Test
    void idOfEveryOpOfEverySpaceParsesBack() {
        for (String family : SearchSpaces.FAMILIES) {
            SearchSpace sp = SearchSpaces.build(new SearchSpaces.Options(family, 0.25, 28, 1, 1, 10));
            int widest = 0;
            for (int l = 0; l < sp.size(); l++) {
                widest = Math.max(widest, sp.layer(l).candidates().size());
            }
            for (int i = 0; i < widest; i++) {
                int[] idx = new int[sp.size()];
                for (int l = 0; l < sp.size(); l++) {
                    idx[l] = i % sp.layer(l).candidates().size();
                }
                Arch a = Arch.ofIndices(sp, idx);
                Arch back = Arch.parse(a.id());
                assertEquals(a, back, family + " " + a.id());
                back.requireIn(sp);
                for (int l = 0; l < sp.size(); l++) {
                    Op op = a.op(l);
                    assertEquals(op, Op.parse(op.name()), family + ": name " + op.name());
                    assertEquals(op, Op.parse(op.code()), family + ": code " + op.code());
                }
            }
        }
    }
}
