package io.sparknas.jobs.sql;

import io.sparknas.jobs.StageResult;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.List;

/**
 * A query's result, printed as an aligned table or as TSV.
 *
 * @param columns   column names
 * @param rows      rows (at most the limit)
 * @param truncated more rows existed than printed
 * @param format    {@code table} or {@code tsv}
 * @param views     the run's views the statements named, registered for them (all of the run's when they named none)
 */
public record SqlResult(List<String> columns, List<Row> rows, boolean truncated, String format, List<String> views) implements StageResult {

    /** This result with the views registered for its statements. */
    public SqlResult withViews(List<String> registered) {
        return new SqlResult(columns, rows, truncated, format, registered);
    }

    @Override
    public String summary() {
        List<List<String>> cells = new ArrayList<>();
        for (Row r : rows) {
            List<String> line = new ArrayList<>();
            for (int i = 0; i < r.size(); i++) {
                Object v = r.get(i);
                line.add(v == null ? "NULL" : v instanceof byte[] b ? "<" + b.length + " bytes>" : v.toString());
            }
            cells.add(line);
        }
        StringBuilder sb = new StringBuilder();
        if (format.equals("tsv")) {
            sb.append(String.join("\t", columns));
            for (List<String> line : cells) {
                sb.append('\n').append(String.join("\t", line));
            }
        } else {
            int[] w = new int[columns.size()];
            for (int i = 0; i < w.length; i++) {
                w[i] = columns.get(i).length();
                for (List<String> line : cells) {
                    w[i] = Math.max(w[i], line.get(i).length());
                }
            }
            appendLine(sb, columns, w);
            StringBuilder rule = new StringBuilder();
            for (int i = 0; i < w.length; i++) {
                rule.append(i == 0 ? "" : "-+-").append("-".repeat(w[i]));
            }
            sb.append('\n').append(rule);
            for (List<String> line : cells) {
                sb.append('\n');
                appendLine(sb, line, w);
            }
            sb.append("\n(").append(rows.size()).append(rows.size() == 1 ? " row" : " rows").append(truncated ? ", more not shown: raise --limit" : "").append(')');
        }
        return sb.toString();
    }

    private static void appendLine(StringBuilder sb, List<String> cells, int[] w) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                sb.append(" | ");
            }
            sb.append(String.format("%-" + w[i] + "s", cells.get(i)));
        }
        int end = sb.length();
        while (end > 0 && sb.charAt(end - 1) == ' ') {
            end--;
        }
        sb.setLength(end);
    }
}
