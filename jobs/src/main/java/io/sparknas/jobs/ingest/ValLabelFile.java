package io.sparknas.jobs.ingest;

import io.sparknas.jobs.InputDataException;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Labels of a flat validation folder: ImageNet's {@code LOC_val_solution.csv} ({@code ImageId,PredictionString}, the class is
 * the first word of the prediction string, the id has no extension) or a two-column {@code file,class} CSV (optional header).
 */
public final class ValLabelFile {

    private ValLabelFile() {
    }

    /** File name (and the name without extension, for ImageNet ids) to class folder name. */
    public static Map<String, String> parse(List<String> lines, String source) {
        Map<String, String> labels = new HashMap<>();
        boolean loc = !lines.isEmpty() && lines.get(0).trim().toLowerCase().startsWith("imageid,predictionstring");
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || (i == 0 && (loc || line.equalsIgnoreCase("file,class") || line.equalsIgnoreCase("filename,label")))) {
                continue;
            }
            int comma = line.indexOf(',');
            if (comma <= 0 || comma == line.length() - 1) {
                throw new InputDataException(source + " line " + (i + 1) + " is not 'file,class' or 'ImageId,PredictionString': '" + line + "'.");
            }
            String file = line.substring(0, comma).trim();
            String rest = line.substring(comma + 1).trim();
            String cls = loc ? rest.split("\\s+")[0] : rest;
            if (!loc && cls.contains(",")) {
                throw new InputDataException(source + " line " + (i + 1) + " has more than two columns: '" + line + "'.");
            }
            labels.put(file, cls);
        }
        if (labels.isEmpty()) {
            throw new InputDataException(source + " holds no labels.");
        }
        return labels;
    }

    /** The class of a validation file, by its name or its name without extension; null when unlabelled. */
    public static String lookup(Map<String, String> labels, String fileName) {
        String c = labels.get(fileName);
        if (c == null) {
            int dot = fileName.lastIndexOf('.');
            if (dot > 0) {
                c = labels.get(fileName.substring(0, dot));
            }
        }
        return c;
    }
}
