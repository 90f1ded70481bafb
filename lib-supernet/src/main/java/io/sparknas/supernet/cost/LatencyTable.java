package io.sparknas.supernet.cost;

import java.io.Serializable;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A measured latency lookup table: milliseconds per forward pass of a batch of {@link #batchSize()} images for every
 * {@link LatencyProbe}, as PAD-NAS (section 3.2, the latency constraint of Eq. 2) and DA-NAS (Eq. 8-10) build theirs:
 * each candidate op is measured at every layer shape and an architecture's latency is the sum of its parts.
 *
 * @param batchSize images per measured forward pass
 * @param device    where it was measured (host, backend), for reports
 * @param entries   median milliseconds per probe
 */
public record LatencyTable(int batchSize, String device, Map<LatencyProbe, Double> entries) implements Serializable {

    public LatencyTable {
        entries = Map.copyOf(entries);
        if (batchSize < 1) {
            throw new IllegalArgumentException("latency table batch size " + batchSize);
        }
        entries.forEach((p, ms) -> {
            if (!(ms >= 0) || Double.isInfinite(ms)) {
                throw new IllegalArgumentException("latency of " + p.describe() + " is " + ms + " ms");
            }
        });
    }

    /** One measured row. */
    public record Measurement(LatencyProbe probe, double medianMs) {
    }

    public static LatencyTable of(int batchSize, String device, Collection<Measurement> rows) {
        Map<LatencyProbe, Double> m = new LinkedHashMap<>();
        for (Measurement r : rows) {
            if (m.put(r.probe(), r.medianMs()) != null) {
                throw new IllegalArgumentException("latency table has two rows for " + r.probe().describe());
            }
        }
        return new LatencyTable(batchSize, device, m);
    }

    /** The measured milliseconds of a probe; a clear error naming the missing shape when the table does not cover it. */
    public double ms(LatencyProbe p) {
        Double v = entries.get(p);
        if (v == null) {
            throw new IllegalArgumentException("The latency table (batch " + batchSize + ", " + device + ") has no entry for " + p.describe()
                    + ": it was measured for another search space. Re-run the latency-profile stage with this run's nas.space settings.");
        }
        return v;
    }

    /** The probes of {@code required} the table lacks (empty: it covers them all). */
    public List<LatencyProbe> missing(Collection<LatencyProbe> required) {
        return required.stream().filter(p -> !entries.containsKey(p)).toList();
    }
}
