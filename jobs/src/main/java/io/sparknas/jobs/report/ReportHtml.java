package io.sparknas.jobs.report;

/** Text in the report's HTML page. */
final class ReportHtml {

    private ReportHtml() {
    }

    /** {@code s} with &amp;, &lt; and &gt; escaped, for the page's text. */
    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
