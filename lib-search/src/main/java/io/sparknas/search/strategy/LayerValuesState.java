package io.sparknas.search.strategy;

import java.util.function.Consumer;

/**
 * The checkpoint text of a strategy that keeps one value per layer and candidate, a pruning epoch per candidate and a
 * driver-side optimiser (DA-NAS logits, DSO-NAS lambdas): lines {@code <name> l v_0 .. v_n} and {@code pruned l e_0 .. e_n}
 * per layer, then {@code optimizer ...}; doubles in exact hexadecimal form, so a restore continues bit for bit.
 */
final class LayerValuesState {

    private LayerValuesState() {
    }

    static String write(String name, double[][] values, int[][] prunedAt, String optimizer) {
        StringBuilder b = new StringBuilder();
        for (int l = 0; l < values.length; l++) {
            b.append(name).append(' ').append(l);
            for (double v : values[l]) {
                b.append(' ').append(Double.toHexString(v));
            }
            b.append('\n').append("pruned ").append(l);
            for (int v : prunedAt[l]) {
                b.append(' ').append(v);
            }
            b.append('\n');
        }
        return b.append("optimizer ").append(optimizer).append('\n').toString();
    }

    /** Reads {@link #write}'s text into {@code values} and {@code prunedAt} (shaped as the space), the optimiser line to {@code optimizer}. */
    static void read(String state, String method, String name, double[][] values, int[][] prunedAt, Consumer<String> optimizer) {
        int seen = 0;
        for (String line : state.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split(" ");
            if (f[0].equals("optimizer")) {
                optimizer.accept(line.substring("optimizer ".length()));
                continue;
            }
            if (!f[0].equals(name) && !f[0].equals("pruned")) {
                throw new IllegalArgumentException(method + " state: unknown line " + f[0]);
            }
            int l = Integer.parseInt(f[1]);
            if (l >= values.length || f.length - 2 != values[l].length) {
                throw new IllegalArgumentException(method + " state does not fit the space: line '" + f[0] + " " + l + "' has " + (f.length - 2) + " values");
            }
            for (int i = 0; i < values[l].length; i++) {
                if (f[0].equals(name)) {
                    values[l][i] = Double.parseDouble(f[2 + i]);
                } else {
                    prunedAt[l][i] = Integer.parseInt(f[2 + i]);
                }
            }
            seen++;
        }
        if (seen != 2 * values.length) {
            throw new IllegalArgumentException(method + " state holds " + seen / 2 + " layers, the space " + values.length);
        }
    }
}
