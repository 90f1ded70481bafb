/**
 * What a training step is told and what it reports, shared by the supernet (which trains) and the strategies (which plan
 * and never train): how a weighted layer sums its ops ({@link io.sparknas.supernet.step.LayerSum}) and a step's
 * measurements ({@link io.sparknas.supernet.step.StepResult}).
 */
package io.sparknas.supernet.step;
