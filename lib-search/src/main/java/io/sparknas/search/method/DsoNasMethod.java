package io.sparknas.search.method;

import com.typesafe.config.Config;
import io.sparknas.search.strategy.DsoNasStrategy;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.supernet.cost.CostModel;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.MacCostModel;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * DSO-NAS (Zhang et al., Algorithm 1): every op of a layer scaled by a factor lambda >= 0, driven to exact zeros by APG-NAG
 * with an L1 penalty under an adaptive FLOPs, MAC or latency budget, after a pre-training on D_w with every lambda = 1
 * ({@link DsoNasStrategy}); the architecture is every op whose lambda is not 0 (section 3.2).
 */
final class DsoNasMethod implements NasMethod {

    static final String BUDGET = "nas.dsonas.budget";

    @Override
    public String name() {
        return "dsonas";
    }

    /** The adaptive latency budget needs the latency table; no ranking stage (one architecture). */
    @Override
    public List<String> stagePlan(Config config) {
        return StagePlans.oneSupernet(config.getString(BUDGET).equals("latency") ? List.of("latency-profile") : List.of());
    }

    @Override
    public List<String> planKeys() {
        return List.of(BUDGET);
    }

    /**
     * Constant: DSO-NAS pre-trains and searches with a fixed learning rate (section 4.2, CIFAR-10: "Constant learning rate
     * 0.1 is applied in both pre-training and search stages"; section 4.3, ImageNet: "constant learning rate 0.1").
     */
    @Override
    public String learningRateSchedule() {
        return "constant";
    }

    @Override
    public Configured configure(Config config, long seed) {
        DsoNasStrategy.Settings d = DsoNasStrategy.Settings.read(config);
        return new Configured() {
            @Override
            public List<String> supernetSections(int stageIndex) {
                return List.of("nas.space", "nas.supernet", "nas.run.method", "nas.dsonas");
            }

            @Override
            public List<Need> needs() {
                return d.budget().equals("latency") ? List.of(new Need(Need.Kind.LATENCY, BUDGET + " = latency", BUDGET + " = flops")) : List.of();
            }

            /** @throws IllegalArgumentException when the settings do not fit the space */
            @Override
            public TrainingStrategy strategy(StrategyInputs in) {
                CostModel cost = switch (d.budget()) {
                    case "flops" -> new FlopsCostModel();
                    case "mac" -> new MacCostModel();
                    case "latency" -> MethodCosts.latency(in.latency());
                    default -> null;
                };
                return new DsoNasStrategy(in.space(), d, cost == null ? null : MethodCosts.perOp(in.space(), cost));
            }

            @Override
            public boolean pretrains() {
                return true;
            }

            @Override
            public int pretrainEpochs() {
                return d.pretrainEpochs();
            }
        };
    }

    @Override
    public Optional<String> firstStageOnly() {
        return Optional.of("DSO-NAS searches inside one supernet-train stage");
    }

    @Override
    public SearchKind searchKind() {
        return SearchKind.READ_OFF;
    }

    @Override
    public String readOffParameter() {
        return "lambda";
    }

    /**
     * Per layer every op whose lambda is not 0, possibly several or none (section 3.2: "the final architecture can be
     * directly obtained by removing useless connections"); a pruned op counts as 0.
     */
    @Override
    public ReadOff readOff(SearchSpace space, double[][] values, boolean[][] pruned) {
        List<List<Op>> ops = new ArrayList<>();
        double[][] lambda = new double[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            List<Op> weighted = new ArrayList<>();
            List<Double> kept = new ArrayList<>();
            for (int i = 0; i < values[l].length; i++) {
                if (!Double.isNaN(values[l][i])) {
                    weighted.add(space.layer(l).candidates().get(i));
                    kept.add(pruned[l][i] ? 0.0 : values[l][i]);
                }
            }
            ops.add(weighted);
            lambda[l] = kept.stream().mapToDouble(Double::doubleValue).toArray();
        }
        Arch arch = DsoNasStrategy.nonZero(space, ops, lambda);
        return new ReadOff(arch, "non-zero lambda", "every op with lambda != 0 after the last epoch (DSO-NAS section 3.2)");
    }
}
