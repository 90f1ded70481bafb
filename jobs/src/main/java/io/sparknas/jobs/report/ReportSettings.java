package io.sparknas.jobs.report;

import com.typesafe.config.Config;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.config.StageIndex;

import java.util.ArrayList;
import java.util.List;

/**
 * Settings of the report stage ({@code nas.report}; meanings in jobs' reference.conf).
 *
 * @param compare other run ids under the same root to put in the comparison table ({@code --compare id1,id2})
 * @param index   {@code --stage-index k}: the report of the method whose last search is search stage k (its chain of stages,
 *                {@code report} or {@code report-k}); each method sharing a run gets its own
 */
public record ReportSettings(RunSettings run, List<String> compare, int chartWidth, int chartHeight, StageIndex index) {

    public static final String COMPARE_OPTION = "compare";
    public static final List<String> SECTIONS = List.of("nas.report");

    public static ReportSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        List<String> compare = new ArrayList<>();
        for (String id : args.options().getOrDefault(COMPARE_OPTION, "").split(",")) {
            if (!id.isBlank()) {
                if (!id.trim().matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
                    throw new InvalidSettingsException("--compare " + id + ": not a run id (letters, digits, '.', '_', '-')");
                }
                compare.add(id.trim());
            }
        }
        return new ReportSettings(RunSettings.from(config, args), List.copyOf(compare), r.intBetween("nas.report.chart-width", 300, 4000),
                r.intBetween("nas.report.chart-height", 200, 4000), StageIndex.from(args));
    }
}
