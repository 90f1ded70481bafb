package io.sparknas.search.method;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The registry of methods: the one place that lists them ({@code nas.run.method} takes their names). */
public final class NasMethods {

    private static final List<NasMethod> ALL = List.of(new SposMethod(), new PadNasMethod(), new DaNasMethod(), new DdpnasMethod(),
            new DsoNasMethod());
    private static final Map<String, NasMethod> BY_NAME = ALL.stream().collect(Collectors.toMap(NasMethod::name, Function.identity()));

    private NasMethods() {
    }

    /** Every method, in the order the documentation lists them. */
    public static List<NasMethod> all() {
        return ALL;
    }

    /** The method called {@code name}, if registered. */
    public static Optional<NasMethod> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** The method called {@code name}; an {@link IllegalArgumentException} naming the registered ones otherwise. */
    public static NasMethod of(String name) {
        return byName(name).orElseThrow(() -> new IllegalArgumentException("no method " + name + " (" + names() + ")"));
    }

    /** The registered names, e.g. for {@code nas.run.method}'s check. */
    public static List<String> names() {
        return ALL.stream().map(NasMethod::name).toList();
    }
}
