package io.sparknas.jobs.data;

import org.apache.hadoop.conf.Configuration;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/** The driver's Hadoop configuration (S3A endpoint, credentials provider, ...) carried to executor tasks. */
public final class HadoopConfSnapshot implements Serializable {

    private static final long serialVersionUID = 1L;
    private final HashMap<String, String> entries = new HashMap<>();
    private transient Configuration conf;

    public HadoopConfSnapshot(Configuration source) {
        for (Map.Entry<String, String> e : source) {
            entries.put(e.getKey(), e.getValue());
        }
    }

    public Configuration get() {
        if (conf == null) {
            Configuration c = new Configuration(false);
            entries.forEach(c::set);
            conf = c;
        }
        return conf;
    }
}
