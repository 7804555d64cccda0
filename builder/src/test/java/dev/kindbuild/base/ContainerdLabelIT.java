package dev.kindbuild.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.node.BaseContainerd;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestEngine;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A built base gets the containerd it really has as a label, on the same layers, keeping its other labels: what the
 * node build reads instead of running the base.
 */
class ContainerdLabelIT {
    @Test
    void theLabelNamesWhatContainerdSays() {
        String tag = "kind-build-test/containerd-label:" + Leaks.PID;
        try (DockerEngine engine = TestEngine.connect()) {
            ImageInfo base = engine.inspectImage(TestBaseImage.get(engine, false, new RecordingProgress()).image()).orElseThrow();
            engine.tag(base.id(), tag);
            try {
                String said = ContainerdLabel.read(engine, tag).text();
                String id = ContainerdLabel.apply(engine, tag, Optional.empty(), Progress.SILENT);
                ImageInfo labelled = engine.inspectImage(tag).orElseThrow();
                assertEquals(id, labelled.id());
                assertNotEquals(base.id(), id);
                assertEquals(said, labelled.labels().get(Labels.CONTAINERD_VERSION));
                assertEquals(said, BaseContainerd.fromLabels(labelled.labels()).orElseThrow().version().text());
                assertEquals(base.labels().get(Labels.RECIPE_HASH), labelled.labels().get(Labels.RECIPE_HASH));
                assertEquals(base.labels().get(Labels.IMAGE_KIND), labelled.labels().get(Labels.IMAGE_KIND));
                Leaks.assertNoContainers(engine);
            } finally {
                engine.removeImage(tag);
            }
        }
    }
}
