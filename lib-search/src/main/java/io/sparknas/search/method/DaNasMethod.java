package io.sparknas.search.method;

import com.typesafe.config.Config;
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.supernet.cost.CostModel;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * DA-NAS (Dai et al., Algorithm 1): class easiness from reference networks (the easiness stage, unless the schedule is
 * {@code all}), a Gumbel-softmax supernet with the cost-aware loss of Eq. 10 trained on progressively harder classes while
 * its candidates are pruned ({@link DaNasStrategy}); the architecture is the argmax of the last logits (section 4.3).
 */
final class DaNasMethod implements NasMethod {

    static final String COST = "nas.danas.cost";

    @Override
    public String name() {
        return "danas";
    }

    /** The easiness stage unless the schedule is {@code all}; the latency table for {@code nas.danas.cost = latency}. */
    @Override
    public List<String> stagePlan(Config config) {
        List<String> inputs = new ArrayList<>();
        if (!config.getString("nas.danas.schedule").equals("all")) {
            inputs.add("easiness");
        }
        if (config.getString(COST).equals("latency")) {
            inputs.add("latency-profile");
        }
        return StagePlans.oneSupernet(inputs);
    }

    @Override
    public List<String> planKeys() {
        return List.of("nas.danas.schedule", COST);
    }

    @Override
    public Configured configure(Config config, long seed) {
        DaNasStrategy.Settings d = DaNasStrategy.Settings.read(config);
        String cost = new SettingsReader(config).oneOf(COST, Set.of("flops", "params", "latency"));
        return new Configured() {
            @Override
            public List<String> supernetSections(int stageIndex) {
                return List.of("nas.space", "nas.supernet", "nas.run.method", "nas.danas");
            }

            @Override
            public List<Need> needs() {
                List<Need> needs = new ArrayList<>();
                if (!d.schedule().equals("all")) {
                    needs.add(new Need(Need.Kind.EASINESS, "DA-NAS with nas.danas.schedule = " + d.schedule(), "nas.danas.schedule = all"));
                }
                if (cost.equals("latency")) {
                    needs.add(new Need(Need.Kind.LATENCY, COST + " = latency", COST + " = flops"));
                }
                return needs;
            }

            @Override
            public TrainingStrategy strategy(StrategyInputs in) {
                int[] ranking = d.schedule().equals("all") ? IntStream.range(0, in.space().classes()).toArray() : in.classRanking();
                CostModel model = switch (cost) {
                    case "params" -> new ParamsCostModel();
                    case "latency" -> MethodCosts.latency(in.latency());
                    default -> new FlopsCostModel();
                };
                return new DaNasStrategy(in.space(), d, ranking, MethodCosts.perOp(in.space(), model), model.fixedCost(in.space()));
            }
        };
    }

    @Override
    public Optional<String> firstStageOnly() {
        return Optional.of("DA-NAS prunes inside one supernet-train stage");
    }

    @Override
    public SearchKind searchKind() {
        return SearchKind.READ_OFF;
    }

    @Override
    public String readOffParameter() {
        return "logit";
    }

    /** Per layer the live candidate with the highest logit (section 4.3: "directly picked by maximizing the architecture distribution"). */
    @Override
    public ReadOff readOff(SearchSpace space, double[][] values, boolean[][] pruned) {
        boolean[][] live = new boolean[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            live[l] = new boolean[pruned[l].length];
            for (int i = 0; i < live[l].length; i++) {
                live[l][i] = !pruned[l][i];
            }
        }
        Arch arch = DaNasStrategy.argmax(space, values, live);
        return new ReadOff(arch, "argmax", "argmax of the last epoch's logits per layer over the live candidates (DA-NAS section 4.3)");
    }
}
