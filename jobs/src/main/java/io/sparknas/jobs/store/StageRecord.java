package io.sparknas.jobs.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * The content of a stage's {@code _stage.json}: written last, so a stage directory without it does not exist for readers.
 *
 * @param formatVersion {@link #FORMAT_VERSION}; readers refuse another
 * @param stage         stage name ({@code ingest}, {@code supernet-train}, ...)
 * @param stageDir      directory name under the run ({@code ingest}, {@code supernet-train-2})
 * @param stageIndex    progressive stage index k (0 when the stage is not indexed)
 * @param runId         the run
 * @param method        search method of the run
 * @param codeVersion   version of the application that wrote it
 * @param configHash    hash of the config sections the stage depends on
 * @param fingerprint   hash of config hash and input hashes: equal fingerprints mean a re-run would do the same work
 * @param seed          the stage's seed, when it makes random choices
 * @param config        the whole resolved {@code nas} configuration
 * @param inputs        what the stage read
 * @param tables        what it wrote
 * @param startedAt     ISO-8601 start
 * @param endedAt       ISO-8601 end
 * @param status        {@code committed}
 * @param spark         Spark master, application id and version
 * @param backend       ND4J backend summary of the driver
 * @param properties    stage-specific facts readers check (e.g. {@code space_hash})
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record StageRecord(
        @JsonProperty("format_version") int formatVersion,
        @JsonProperty("stage") String stage,
        @JsonProperty("stage_dir") String stageDir,
        @JsonProperty("stage_index") int stageIndex,
        @JsonProperty("run_id") String runId,
        @JsonProperty("method") String method,
        @JsonProperty("code_version") String codeVersion,
        @JsonProperty("config_hash") String configHash,
        @JsonProperty("fingerprint") String fingerprint,
        @JsonProperty("seed") Long seed,
        @JsonProperty("config") JsonNode config,
        @JsonProperty("inputs") List<Input> inputs,
        @JsonProperty("tables") Map<String, Table> tables,
        @JsonProperty("started_at") String startedAt,
        @JsonProperty("ended_at") String endedAt,
        @JsonProperty("status") String status,
        @JsonProperty("spark") Map<String, String> spark,
        @JsonProperty("backend") String backend,
        @JsonProperty("properties") Map<String, String> properties) {

    public static final int FORMAT_VERSION = 1;
    public static final String COMMITTED = "committed";

    /**
     * One input of a stage: another stage's output or external data.
     *
     * @param id   {@code <stage-dir>} for a stage, {@code source:<name>} for external data
     * @param uri  where it was read
     * @param hash the input stage's fingerprint, or a fingerprint of the external files (paths, sizes, times)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Input(@JsonProperty("id") String id, @JsonProperty("uri") String uri, @JsonProperty("hash") String hash) {
    }

    /**
     * One output table.
     *
     * @param path          directory relative to the stage directory
     * @param rows          row count
     * @param schemaVersion version of the table's schema; readers check it
     * @param partitionedBy partition columns, if any
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Table(@JsonProperty("path") String path, @JsonProperty("rows") long rows,
                        @JsonProperty("schema_version") int schemaVersion,
                        @JsonProperty("partitioned_by") List<String> partitionedBy) {
    }
}
