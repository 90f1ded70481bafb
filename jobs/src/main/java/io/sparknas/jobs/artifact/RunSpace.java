package io.sparknas.jobs.artifact;

import io.sparknas.jobs.artifact.IngestOutputs;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;

import java.util.List;

/** The search space of a run: the configured family, width and stem stride at the committed ingest's resolution, channels and classes. */
public record RunSpace(StageRecord ingest, SearchSpace space) {

    /** Reads the run's committed ingest stage (a clear error when it is missing or of another schema version) and builds the space. */
    public static RunSpace of(RunStore store, String runId, SpaceSettings settings) {
        StageRecord ingest = store.committed(IngestOutputs.STAGE).orElseThrow(() -> new InputDataException("Run " + runId
                + " has no committed ingest stage at " + store.stageDir(IngestOutputs.STAGE) + ": run submit/ingest.sh first (same --run-root and --run-id)."));
        for (String t : List.of(IngestOutputs.IMAGES, IngestOutputs.CLASSES)) {
            StageRecord.Table table = ingest.tables().get(t);
            if (table == null || table.schemaVersion() != IngestOutputs.SCHEMA_VERSION) {
                throw new InputDataException("Table ingest/" + t + " of run " + runId + " has schema version "
                        + (table == null ? "none" : table.schemaVersion()) + "; this version reads " + IngestOutputs.SCHEMA_VERSION
                        + ". Re-run ingest with this version (--force).");
            }
        }
        JsonNode ic = ingest.config().path("ingest");
        int classes = (int) ingest.tables().get(IngestOutputs.CLASSES).rows();
        SearchSpace space = SearchSpaces.build(settings.options(ic.path("resolution").asInt(), ic.path("channels").asInt(), classes));
        return new RunSpace(ingest, space);
    }

    /** The ingest stage as an input of a later stage. */
    public StageRecord.Input input(RunStore store) {
        return new StageRecord.Input(IngestOutputs.STAGE, store.stageDir(IngestOutputs.STAGE).toString(), ingest.fingerprint());
    }
}
