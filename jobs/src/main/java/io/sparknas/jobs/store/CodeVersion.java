package io.sparknas.jobs.store;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The application's version, from the build ({@code spark-nas-version.properties}, filtered by Maven). */
public final class CodeVersion {

    private static final String VERSION = load();

    private CodeVersion() {
    }

    public static String get() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = CodeVersion.class.getResourceAsStream("/spark-nas-version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
