package io.sparknas.search.method;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.search.strategy.DdpnasStrategy;
import io.sparknas.search.strategy.DsoNasStrategy;
import io.sparknas.search.strategy.UniformSampling;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.supernet.sample.UniformPathSampler;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The method registry: each method's stage plan, settings, strategy and read-off, from the modules' reference.conf. */
class NasMethodsTest {

    static final SearchSpace SPACE = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10, 2));

    static Config config(Map<String, Object> overrides) {
        Config c = ConfigFactory.defaultReference();
        for (Map.Entry<String, Object> e : overrides.entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return c.resolve();
    }

    @Test
    void everyMethodIsRegisteredOnceByItsName() {
        assertEquals(List.of("spos", "padnas", "danas", "ddpnas", "dsonas"), NasMethods.names());
        for (NasMethod m : NasMethods.all()) {
            assertEquals(m, NasMethods.of(m.name()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NasMethods.of("enas"));
        assertTrue(e.getMessage().contains("enas") && e.getMessage().contains("spos"), e.getMessage());
    }

    @Test
    void stagePlansFollowTheKeysEachMethodDeclares() {
        assertEquals(List.of("ingest", "latency-profile", "supernet-train", "search", "retrain", "ranking", "report"),
                NasMethods.of("spos").stagePlan(config(Map.of())));
        NasMethod padnas = NasMethods.of("padnas");
        assertEquals(List.of("ingest", "latency-profile", "supernet-train", "search", "retrain", "ranking", "report"),
                padnas.stagePlan(config(Map.of("nas.padnas.stages", 2))));
        assertEquals(List.of("ingest", "latency-profile", "supernet-train", "search", "prune", "supernet-train-2", "search-2", "prune-2",
                        "supernet-train-3", "search-3", "retrain-3", "ranking-3", "report-3"), padnas.stagePlan(config(Map.of("nas.padnas.stages", 4))));
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> padnas.stagePlan(config(Map.of("nas.padnas.stages", 1))));
        assertTrue(e.getMessage().contains("nas.padnas.stages = 1"), e.getMessage());
        NasMethod danas = NasMethods.of("danas");
        assertEquals(List.of("ingest", "easiness", "supernet-train", "search", "retrain", "report"), danas.stagePlan(config(Map.of())));
        assertEquals(List.of("ingest", "latency-profile", "supernet-train", "search", "retrain", "report"),
                danas.stagePlan(config(Map.of("nas.danas.schedule", "all", "nas.danas.cost", "latency"))));
        assertEquals(List.of("ingest", "latency-profile", "supernet-train", "search", "retrain", "report"), NasMethods.of("ddpnas")
                .stagePlan(config(Map.of("nas.ddpnas.generation.constraints", List.of("flops <= 8.0", "latency <= 2.0")))));
        assertEquals(List.of("ingest", "supernet-train", "search", "retrain", "report"), NasMethods.of("dsonas").stagePlan(config(Map.of())));
        assertEquals(List.of("ingest", "latency-profile", "supernet-train", "search", "retrain", "report"),
                NasMethods.of("dsonas").stagePlan(config(Map.of("nas.dsonas.budget", "latency"))));
        // a plan changes only through the keys its method declares
        for (NasMethod m : NasMethods.all()) {
            for (String key : m.planKeys()) {
                assertTrue(config(Map.of()).hasPath(key), m.name() + " declares " + key);
            }
        }
        assertEquals(List.of("nas.danas.schedule", "nas.danas.cost"), danas.planKeys());
        assertEquals(List.of(), NasMethods.of("spos").planKeys());
    }

    @Test
    void eachMethodBuildsItsStrategyFromItsOwnSettings() {
        Config c = config(Map.of());
        StrategyInputs in = new StrategyInputs(SPACE, 1, 3, new UniformPathSampler(), null, null);
        assertInstanceOf(UniformSampling.class, NasMethods.of("spos").configure(c, 1).strategy(in));
        assertInstanceOf(DaNasStrategy.class, NasMethods.of("danas").configure(config(Map.of("nas.danas.schedule", "all")), 1).strategy(in));
        assertInstanceOf(DdpnasStrategy.class, NasMethods.of("ddpnas").configure(c, 1).strategy(in));
        NasMethod.Configured dso = NasMethods.of("dsonas").configure(c, 1);
        assertInstanceOf(DsoNasStrategy.class, dso.strategy(in));
        assertTrue(dso.pretrains());
        assertEquals(c.getInt("nas.dsonas.pretrain-epochs"), dso.pretrainEpochs());
        // what each asks of the run
        assertEquals(List.of(NasMethod.Need.Kind.EASINESS), NasMethods.of("danas").configure(c, 1).needs().stream().map(NasMethod.Need::kind).toList());
        NasMethod.Need lat = NasMethods.of("dsonas").configure(config(Map.of("nas.dsonas.budget", "latency")), 1).needs().get(0);
        assertEquals(new NasMethod.Need(NasMethod.Need.Kind.LATENCY, "nas.dsonas.budget = latency", "nas.dsonas.budget = flops"), lat);
        // the sections of the supernet's config hash
        assertEquals(List.of("nas.space", "nas.supernet"), NasMethods.of("padnas").configure(c, 1).supernetSections(1));
        assertEquals(5, NasMethods.of("padnas").configure(c, 1).supernetSections(2).size());
        assertTrue(NasMethods.of("ddpnas").configure(c, 1).supernetSections(1).stream().noneMatch(s -> s.startsWith("nas.ddpnas.generation")));
        // settings are read and validated beside their records
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class,
                () -> NasMethods.of("danas").configure(config(Map.of("nas.danas.class-fractions", List.of(0.5, 0.2, 1.0))), 1));
        assertTrue(e.getMessage().contains("nas.danas.class-fractions") && e.getMessage().contains("decreases"), e.getMessage());
        e = assertThrows(InvalidSettingsException.class, () -> NasMethods.of("dsonas").configure(config(Map.of("nas.dsonas.weight-share", 0.555)), 1));
        assertTrue(e.getMessage().contains("nas.dsonas.weight-share"), e.getMessage());
    }

    @Test
    void readOffsPickTheArgmaxOfLiveLogitsOrEveryNonZeroLambda() {
        int layers = SPACE.size();
        double[][] values = new double[layers][];
        boolean[][] pruned = new boolean[layers][];
        for (int l = 0; l < layers; l++) {
            int n = SPACE.layer(l).candidates().size();
            values[l] = new double[n];
            pruned[l] = new boolean[n];
            for (int i = 0; i < n; i++) {
                values[l][i] = i;
            }
            pruned[l][n - 1] = true; // the largest logit is pruned: the argmax is the next
        }
        NasMethod danas = NasMethods.of("danas");
        assertEquals(NasMethod.SearchKind.READ_OFF, danas.searchKind());
        assertEquals("logit", danas.readOffParameter());
        NasMethod.ReadOff r = danas.readOff(SPACE, values, pruned);
        assertEquals("argmax", r.name());
        for (int l = 0; l < layers; l++) {
            int n = SPACE.layer(l).candidates().size();
            assertEquals(List.of(SPACE.layer(l).candidates().get(n - 2)), r.arch().ops(l), "layer " + l);
        }
        NasMethod dso = NasMethods.of("dsonas");
        assertEquals("lambda", dso.readOffParameter());
        for (int l = 0; l < layers; l++) {
            Arrays.fill(values[l], 0.5);
            values[l][0] = Double.NaN; // no lambda (identity)
        }
        Arch a = dso.readOff(SPACE, values, pruned).arch();
        for (int l = 0; l < layers; l++) {
            int n = SPACE.layer(l).candidates().size();
            assertEquals(SPACE.layer(l).candidates().subList(1, n - 1), a.ops(l), "layer " + l + ": every op with lambda != 0, the pruned one out");
        }
        assertEquals(NasMethod.SearchKind.GENERATION, NasMethods.of("ddpnas").searchKind());
        assertEquals(NasMethod.SearchKind.EVOLUTION, NasMethods.of("padnas").searchKind());
    }
}
