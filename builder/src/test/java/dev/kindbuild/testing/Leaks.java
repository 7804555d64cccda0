package dev.kindbuild.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/** What a failed or finished build must not leave behind: containers of this process, temp dirs. */
public final class Leaks {
    private Leaks() {}

    public static final String PID = Long.toString(ProcessHandle.current().pid());

    /** No container (running or not) labelled with this process's PID. */
    public static void assertNoContainers(DockerEngine engine) {
        List<String> left = engine.containersWithLabel(Labels.PID, PID);
        assertEquals(List.of(), left, "containers created by this test JVM were left behind");
    }

    /** Entries of java.io.tmpdir whose names start with {@code prefix}. */
    public static Set<String> tempEntries(String prefix) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix))
                    .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * No entry named {@code prefix*} in java.io.tmpdir that was not there {@code before}. Other kind-build processes
     * on this machine may have a build in flight, whose work dir vanishes when it ends: a new entry is only a leak
     * if it is still there after {@code graceSeconds}.
     */
    public static void assertNoNewTempEntries(String prefix, Set<String> before, int graceSeconds) {
        long deadline = System.nanoTime() + graceSeconds * 1_000_000_000L;
        Set<String> added;
        while (true) {
            added = new TreeSet<>(tempEntries(prefix));
            added.removeAll(before);
            if (added.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("left in " + System.getProperty("java.io.tmpdir") + ": " + added);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }
}
