package io.sparknas.supernet.net;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Anything of the supernet with parameters and updater state that training averages: every block and the classifier. */
public interface TrainablePart {

    /** Stable key in supernet state. */
    String key();

    /** Flat view of all parameters. */
    INDArray params();

    /** Flat view of the updater state; empty when there is none. */
    INDArray updaterState();
}
