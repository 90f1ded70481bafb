package io.sparknas.jobs.artifact;

import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage ingest commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class IngestOutputs {

    public static final String STAGE = "ingest";
    public static final String IMAGES = "images";
    public static final String CLASSES = "classes";
    public static final String REJECTS = "rejects";
    /** The stage record's property holding {@code nas.ingest.buckets}. */
    public static final String BUCKETS_PROPERTY = "buckets";
    public static final int SCHEMA_VERSION = SchemaVersions.of("ingest");
    public static final StructType CLASSES_SCHEMA = new StructType()
            .add("index", DataTypes.IntegerType, false)
            .add("name", DataTypes.StringType, false)
            .add("train", DataTypes.LongType, false)
            .add("val", DataTypes.LongType, false)
            .add("test", DataTypes.LongType, false);

    private IngestOutputs() {
    }
}
