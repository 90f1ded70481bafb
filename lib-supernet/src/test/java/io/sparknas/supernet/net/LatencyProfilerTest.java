package io.sparknas.supernet.net;

import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LatencyProfilerTest {

    final SearchSpace space = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10));

    /** Trainable parameters (BatchNorm running statistics excluded, as the params cost model counts). */
    static long trainable(MultiLayerNetwork net) {
        long n = 0;
        for (int i = 0; i < net.getnLayers(); i++) {
            for (var e : net.getLayer(i).paramTable().entrySet()) {
                if (!e.getKey().equals("mean") && !e.getKey().equals("var")) {
                    n += e.getValue().length();
                }
            }
        }
        return n;
    }

    @Test
    void everyProbeBuildsThePartTheCostModelsDescribe() {
        LatencyProfiler profiler = new LatencyProfiler(1, 0, 1, 1);
        ParamsCostModel params = new ParamsCostModel();
        for (SearchSpace sp : List.of(space, SearchSpaces.build(new SearchSpaces.Options("shuffle-mobile", 0.25, 28, 1, 1, 10, 2)))) {
            for (Layer l : sp.layers()) {
                for (Op op : l.candidates()) {
                    if (!(op instanceof Op.Identity)) {
                        long n = profiler.networks(LatencyProbe.of(l, op)).stream().mapToLong(LatencyProfilerTest::trainable).sum();
                        assertEquals(Math.round(params.opCost(sp, l.index(), op) * 1e6), n, sp.family() + " layer " + l.index() + " " + op.name());
                    }
                }
            }
        }
        long fixed = trainable(profiler.network(LatencyProbe.stem(space))) + trainable(profiler.network(LatencyProbe.head(space)))
                + trainable(profiler.network(LatencyProbe.classifier(space)));
        assertEquals(Math.round(params.fixedCost(space) * 1e6), fixed);
    }

    @Test
    void measuresEveryProbeAndTheCostModelSumsThem() {
        LatencyProfiler profiler = new LatencyProfiler(2, 1, 3, 1);
        List<LatencyTable.Measurement> rows = new ArrayList<>();
        for (LatencyProbe p : LatencyProbe.of(space)) {
            LatencyProfiler.Timing t = profiler.measure(p);
            assertTrue(t.medianMs() > 0 && t.medianMs() <= t.p90Ms(), p.describe() + ": " + t);
            rows.add(t.measurement());
        }
        LatencyTable table = LatencyTable.of(2, "test", rows);
        LatencyCostModel cost = new LatencyCostModel(table);
        Random r = new Random(3);
        for (int n = 0; n < 20; n++) {
            int[] idx = new int[space.size()];
            double expected = table.ms(LatencyProbe.stem(space)) + table.ms(LatencyProbe.head(space)) + table.ms(LatencyProbe.classifier(space));
            for (int i = 0; i < idx.length; i++) {
                idx[i] = r.nextInt(space.layer(i).candidates().size());
                Op op = space.layer(i).candidates().get(idx[i]);
                expected += op instanceof Op.Identity ? 0 : table.ms(LatencyProbe.of(space.layer(i), op));
            }
            assertEquals(expected, cost.cost(space, Arch.ofIndices(space, idx)), 1e-9);
        }
        // a wider space has shapes the table never measured: a clear error naming the shape and the fix
        SearchSpace wide = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.5, 28, 1, 1, 10));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cost.cost(wide, Arch.ofIndices(wide, new int[22])));
        assertTrue(e.getMessage().contains("latency-profile") && e.getMessage().contains("stride"), e.getMessage());
        assertTrue(!table.missing(LatencyProbe.of(wide)).isEmpty());
        assertTrue(table.missing(LatencyProbe.of(space)).isEmpty());
    }

    @Test
    void identicalShapesShareOneProbe() {
        SearchSpace big = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 1.0, 224, 3, 2, 1000));
        List<LatencyProbe> probes = LatencyProbe.of(big);
        assertEquals(probes.size(), probes.stream().distinct().count());
        long opProbes = probes.stream().filter(p -> p.part().equals("op")).count();
        long pairs = big.layers().stream().mapToLong(l -> l.candidates().stream().filter(o -> o instanceof Op.IBConv).count()).sum();
        // 22 layers: the repeated layers of a stage (same shape) share probes, so there are fewer probes than (layer, op) pairs
        assertTrue(opProbes < pairs, opProbes + " vs " + pairs);
        for (String part : List.of("stem", "head", "classifier")) {
            assertEquals(1, probes.stream().filter(p -> p.part().equals(part)).count(), part);
        }
        assertTrue(probes.stream().noneMatch(p -> p.op().equals("identity")));
    }
}
