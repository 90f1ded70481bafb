package io.sparknas.search.generation;

import java.math.BigDecimal;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One constraint nu of DDPNAS Eq. 10, written {@code "<cost> <= <bound>"}: {@code flops} (MFLOPs), {@code params} (millions)
 * or {@code latency} (ms, from the run's latency table).
 */
public record CostConstraint(String cost, double bound) {

    private static final Pattern FORM = Pattern.compile("\\s*(flops|params|latency)\\s*<=\\s*([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\\s*");

    public CostConstraint {
        if (!cost.equals("flops") && !cost.equals("params") && !cost.equals("latency") || !(bound > 0) || Double.isInfinite(bound)) {
            throw new IllegalArgumentException("constraint " + cost + " <= " + bound);
        }
    }

    /** Parses {@code "flops <= 6.5"}; null when the text has another form. */
    public static CostConstraint parse(String text) {
        Matcher m = FORM.matcher(text);
        if (!m.matches() || !(Double.parseDouble(m.group(2)) > 0)) {
            return null;
        }
        return new CostConstraint(m.group(1), Double.parseDouble(m.group(2)));
    }

    /** The cost column's unit. */
    public String unit() {
        return switch (cost) {
            case "flops" -> "MFLOPs";
            case "params" -> "M params";
            default -> "ms";
        };
    }

    @Override
    public String toString() {
        // as written: 100, not 100.0
        return cost + " <= " + BigDecimal.valueOf(bound).stripTrailingZeros().toPlainString();
    }
}
