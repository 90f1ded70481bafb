package io.sparknas.jobs.ingest;

import io.sparknas.jobs.InputDataException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ValLabelFileTest {

    @Test
    void imagenetLocSolution() {
        Map<String, String> m = ValLabelFile.parse(List.of("ImageId,PredictionString",
                "ILSVRC2012_val_00008726,n02119789 255 142 454 329 n02119789 44 21 322 295",
                "ILSVRC2012_val_00000001,n01751748 1 2 3 4"), "LOC_val_solution.csv");
        assertEquals("n02119789", ValLabelFile.lookup(m, "ILSVRC2012_val_00008726.JPEG"));
        assertEquals("n01751748", ValLabelFile.lookup(m, "ILSVRC2012_val_00000001.JPEG"));
        assertNull(ValLabelFile.lookup(m, "ILSVRC2012_val_00000002.JPEG"));
    }

    @Test
    void twoColumnCsvWithAndWithoutHeader() {
        assertEquals(Map.of("a.png", "3", "b.jpg", "cat"), ValLabelFile.parse(List.of("file,class", "a.png,3", "b.jpg, cat"), "val.csv"));
        assertEquals(Map.of("a.png", "3"), ValLabelFile.parse(List.of("a.png,3", ""), "val.csv"));
    }

    @Test
    void malformedLinesNameFileAndLine() {
        InputDataException e = assertThrows(InputDataException.class, () -> ValLabelFile.parse(List.of("file,class", "a.png"), "val.csv"));
        assertTrue(e.getMessage().startsWith("val.csv line 2"), e.getMessage());
        assertThrows(InputDataException.class, () -> ValLabelFile.parse(List.of("a,b,c"), "val.csv"));
        assertThrows(InputDataException.class, () -> ValLabelFile.parse(List.of("file,class"), "val.csv"));
    }
}
