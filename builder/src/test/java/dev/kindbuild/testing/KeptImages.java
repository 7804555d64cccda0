package dev.kindbuild.testing;

import dev.kindbuild.engine.DockerEngine;
import java.util.ArrayList;
import java.util.List;

/**
 * Engine images kept for the rest of the test JVM under a tag of their own, so that a costly image one test class
 * builds (a base for arm64, made under emulation) is found again by the next class's build (base-image reuses an image
 * of the same recipe) after the first class removed its own tags. The tags go when the JVM exits.
 */
public final class KeptImages {
    private static final List<String> KEPT = new ArrayList<>();

    private KeptImages() {}

    /** Tags the image {@code ref} names as {@code kind-build-test/kept:<pid>-<n>} until the JVM exits. */
    public static synchronized void keep(DockerEngine engine, String ref) {
        String id = engine.inspectImage(ref).orElseThrow(() -> new IllegalStateException("no image " + ref)).id();
        if (KEPT.isEmpty()) {
            Runtime.getRuntime().addShutdownHook(new Thread(KeptImages::removeAll, "kept-images"));
        }
        String tag = "kind-build-test/kept:" + Leaks.PID + "-" + KEPT.size();
        engine.tag(id, tag);
        KEPT.add(tag);
    }

    private static synchronized void removeAll() {
        try (DockerEngine engine = TestEngine.connect()) {
            KEPT.forEach(engine::removeImage);
        } catch (RuntimeException e) {
            // the JVM is exiting; `docker images kind-build-test/kept` shows what is left
        }
    }
}
