package io.sparknas.jobs.sql;

import io.sparknas.jobs.catalog.HiveCatalog;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalog.Table;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The views of a run's committed tables ({@code <stage-dir>_<table>}), each registered the first time a statement names
 * it. Registering a view reads its table's Parquet footers and lists its folders (an ingest's images table has a folder
 * per split and bucket: a Spark listing job of its own beyond 32), so registering all of a run's 30-odd tables for one
 * query cost 7 s of a 11 s {@code nas-sql} launch on the tiny preset. A statement that names none of the run's views
 * ({@code show tables}, a typo) registers all of them, so it sees what it saw before.
 *
 * <p>The names come from the committed stages' {@code _stage.json} records; when the committed stages change (a stage
 * committed, re-run or removed since the last statement of a session) the registered views are dropped and the names
 * read again, so no statement is answered from a stage as it was.
 */
final class RunViews {

    private static final Logger LOG = LoggerFactory.getLogger(RunViews.class);

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final RunStore store;
    /** Every committed table's view name and location, in stage then table order. */
    private final Map<String, String> uriOfView = new LinkedHashMap<>();
    private final Set<String> registered = new HashSet<>();
    /** The committed stages the names were read from ({@code stage-dir@ended-at}, sorted); null before the first read. */
    private String state;

    RunViews(RunStore store) {
        this.store = store;
    }

    /** The view names of every committed table of the run (read again if the committed stages changed). */
    List<String> names(SparkSession spark) {
        refresh(spark);
        return List.copyOf(uriOfView.keySet());
    }

    /**
     * Registers the views {@code statements} name that are not registered yet (all of them when the statements name
     * none); returns the views the statements name, or all when they name none.
     */
    List<String> registerFor(SparkSession spark, List<String> statements) {
        refresh(spark);
        Set<String> words = new HashSet<>();
        for (String stmt : statements) {
            Matcher m = IDENTIFIER.matcher(stmt);
            while (m.find()) {
                words.add(m.group().toLowerCase(Locale.ROOT));
            }
        }
        List<String> named = uriOfView.keySet().stream().filter(words::contains).toList();
        List<String> wanted = named.isEmpty() ? List.copyOf(uriOfView.keySet()) : named;
        List<String> added = new ArrayList<>();
        for (String view : wanted) {
            if (registered.add(view)) {
                spark.read().parquet(uriOfView.get(view)).createOrReplaceTempView(view);
                added.add(view);
            }
        }
        if (!added.isEmpty()) {
            LOG.info("Registered views of run {}: {}", store.runId(), added);
        }
        return wanted;
    }

    private void refresh(SparkSession spark) {
        List<StageRecord> stages = store.committedStages();
        String now = stages.stream().map(r -> r.stageDir() + "@" + r.endedAt()).sorted().toList().toString();
        if (now.equals(state)) {
            return;
        }
        // every temporary view goes, also one left by another job in the same session: what answers is this run as committed now
        for (Table t : spark.catalog().listTables().collectAsList()) {
            if (t.isTemporary()) {
                spark.catalog().dropTempView(t.name());
            }
        }
        registered.clear();
        uriOfView.clear();
        for (StageRecord r : stages) {
            for (Map.Entry<String, StageRecord.Table> t : r.tables().entrySet()) {
                uriOfView.put(HiveCatalog.viewName(r.stageDir(), t.getKey()), store.tableUri(r.stageDir(), t.getValue().path()));
            }
        }
        state = now;
    }
}
