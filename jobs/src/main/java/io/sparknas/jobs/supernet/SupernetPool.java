package io.sparknas.jobs.supernet;

import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.space.SearchSpace;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Supernet instances kept per executor JVM between rounds: building one (a DL4J network per candidate op) costs seconds,
 * while loading a round's state into it costs milliseconds. A task borrows an instance, overwrites its whole state from the
 * round's broadcast, trains, and returns it; concurrent tasks never share one.
 */
final class SupernetPool {

    private static final Map<String, Queue<Supernet>> POOL = new ConcurrentHashMap<>();

    private SupernetPool() {
    }

    static Supernet borrow(SearchSpace space, OptimizerSettings opt, long seed) {
        Supernet s = POOL.computeIfAbsent(key(space, opt), k -> new ConcurrentLinkedQueue<>()).poll();
        return s != null ? s : new Supernet(space, opt, seed);
    }

    static void release(Supernet net) {
        POOL.computeIfAbsent(key(net.space(), net.optimizer()), k -> new ConcurrentLinkedQueue<>()).add(net);
    }

    private static String key(SearchSpace space, OptimizerSettings opt) {
        return space.hash() + "|" + opt;
    }
}
