package io.sparknas.jobs.search;

import java.util.ArrayList;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.search.generation.CostConstraint;
import io.sparknas.search.generation.ExpectationKnapsack;

import com.typesafe.config.Config;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.config.StageIndex;

import java.util.List;
import java.util.Set;

/** Settings of the search stage ({@code nas.space}, {@code nas.search}; defaults and meanings in lib-search's reference.conf). */
public record SearchSettings(RunSettings run, SpaceSettings space, StageIndex stageIndex, long seed, String cost, double costMin,
                             double costMax, int population, int generations, double crossoverProbability, double mutationProbability,
                             double mutationDistributionIndex, int maxRetries, int rankBound, int parallelism, int recalibrationBatches,
                             int evalBatchSize, int valImages, List<CostConstraint> constraints, int generationResolution,
                             String generationOps, double dsoNasTargetMflops) {

    /** The config sections the stage's output depends on. */
    public static final List<String> SECTIONS = List.of("nas.space", "nas.search", "nas.ddpnas.generation", "nas.dsonas.target-mflops");

    public static SearchSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        double costMin = r.doubleBetween("nas.search.cost-min", 0, 1e12);
        double costMax = r.doubleBetween("nas.search.cost-max", 0, 1e12);
        if (costMax > 0 && costMin > costMax) {
            throw new InvalidSettingsException("nas.search.cost-min = " + costMin + " is above nas.search.cost-max = "
                    + costMax + ": the feasible range would be empty. Lower cost-min or raise cost-max (0 means no bound).");
        }
        int population = r.intBetween("nas.search.population", 4, 100_000);
        if (population % 2 != 0) {
            throw new InvalidSettingsException("nas.search.population = " + population
                    + ": NSGA-II breeds pairs, use an even number (e.g. " + (population + 1) + ").");
        }
        return new SearchSettings(RunSettings.from(config, args), SpaceSettings.from(r), StageIndex.from(args),
                r.longBetween("nas.search.seed", Long.MIN_VALUE, Long.MAX_VALUE),
                r.oneOf("nas.search.cost", Set.of("flops", "params", "latency")),
                costMin, costMax, population,
                r.intBetween("nas.search.generations", 0, 100_000),
                r.doubleBetween("nas.search.crossover-probability", 0, 1),
                r.doubleBetween("nas.search.mutation-probability", 0, 1),
                r.doubleBetween("nas.search.mutation-distribution-index", 0, 1000),
                r.intBetween("nas.search.max-retries", 1, 1_000_000),
                r.intBetween("nas.search.rank-bound", 2, 1_000_000),
                r.intBetween("nas.search.eval.parallelism", 0, 100_000),
                r.intBetween("nas.search.eval.recalibration-batches", 1, 100_000),
                r.intBetween("nas.search.eval.batch-size", 1, 65_536),
                r.intBetween("nas.search.eval.val-images", 0, Integer.MAX_VALUE),
                constraints(r), r.intBetween("nas.ddpnas.generation.resolution", 16, ExpectationKnapsack.MAX_RESOLUTION),
                r.oneOf("nas.ddpnas.generation.ops", Set.of("all", "pruned")),
                r.doubleBetween("nas.dsonas.target-mflops", 0, 1e9));
    }

    /** {@code nas.ddpnas.generation.constraints}: DDPNAS's nu of Eq. 10, one generated architecture each. */
    static List<CostConstraint> constraints(SettingsReader r) {
        List<CostConstraint> out = new ArrayList<>();
        for (String text : r.strings("nas.ddpnas.generation.constraints")) {
            CostConstraint c = CostConstraint.parse(text);
            if (c == null) {
                throw new InvalidSettingsException("nas.ddpnas.generation.constraints: '" + text + "' is not of the "
                        + "form \"<cost> <= <bound>\" with cost flops (MFLOPs), params (millions) or latency (ms) and a bound > 0, e.g. \"flops <= 400\".");
            }
            out.add(c);
        }
        if (out.isEmpty()) {
            throw new InvalidSettingsException("nas.ddpnas.generation.constraints is empty: give at least one, e.g. "
                    + "[\"flops <= 400\"] (DDPNAS Eq. 10 generates one architecture per constraint).");
        }
        return List.copyOf(out);
    }

    /** Upper cost bound, infinite when unset (0). */
    public double costUpper() {
        return costMax > 0 ? costMax : Double.POSITIVE_INFINITY;
    }
}
