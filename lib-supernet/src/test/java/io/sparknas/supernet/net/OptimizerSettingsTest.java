package io.sparknas.supernet.net;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class OptimizerSettingsTest {

    @Test
    void theLearningRateWarmsUpLinearlyThenFollowsItsSchedule() {
        // 2 warm-up steps of 10: steps 0 and 1 at 1/3 and 2/3 of the peak, then t = (step - 2) / 8
        for (String schedule : new String[]{"cosine", "linear", "constant"}) {
            OptimizerSettings o = new OptimizerSettings(0.3, 0.9, 0, schedule, 10, 2, 0);
            assertEquals(0.1, o.learningRateAt(0), 1e-15, schedule);
            assertEquals(0.2, o.learningRateAt(1), 1e-15, schedule);
            assertEquals(0.3, o.learningRateAt(2), 1e-15, schedule);
        }
        OptimizerSettings cosine = new OptimizerSettings(0.3, 0.9, 0, "cosine", 10, 2, 0);
        OptimizerSettings linear = new OptimizerSettings(0.3, 0.9, 0, "linear", 10, 2, 0);
        OptimizerSettings constant = new OptimizerSettings(0.3, 0.9, 0, "constant", 10, 2, 0);
        // step 6: t = 1/2
        assertEquals(0.15, cosine.learningRateAt(6), 1e-15);
        assertEquals(0.15, linear.learningRateAt(6), 1e-15);
        assertEquals(0.3, constant.learningRateAt(6), 1e-15);
        // step 4: t = 1/4
        assertEquals(0.3 * 0.5 * (1 + Math.cos(Math.PI / 4)), cosine.learningRateAt(4), 1e-15);
        assertEquals(0.225, linear.learningRateAt(4), 1e-15);
        // the end and past it
        assertEquals(0.0, linear.learningRateAt(10), 1e-15);
        assertEquals(0.0, cosine.learningRateAt(12), 1e-15);
        assertEquals(0.3, constant.learningRateAt(12), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new OptimizerSettings(0.3, 0.9, 0, "step", 10, 2, 0));
    }
}
