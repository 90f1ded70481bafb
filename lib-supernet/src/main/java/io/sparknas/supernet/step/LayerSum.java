package io.sparknas.supernet.step;

/**
 * How a weighted layer combines its ops.
 * <ul>
 *   <li>{@link #MIXTURE} (DA-NAS Eq. 7): {@code sum_i w_i o_i(x)}, each op with its own shortcut (identity's output is x);
 *   with weights summing to 1 (a Gumbel-softmax sample) the shortcut counts once.</li>
 *   <li>{@link #SCALED_BRANCHES} (DSO-NAS Eq. 4): {@code sum_i lambda_i B_i(x) + x}: every op's branch scaled, the
 *   shortcut added once and unscaled where the layer keeps its shape; identity is no weighted op (the shortcut is always
 *   there), so a layer without ops is the identity.</li>
 * </ul>
 */
public enum LayerSum { MIXTURE, SCALED_BRANCHES }
