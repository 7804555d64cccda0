package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageCache;
import dev.kindbuild.image.ImagePuller;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.RegistryAccess;
import dev.kindbuild.image.RegistryMirrors;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.progress.BuildEvent;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleImages;
import dev.kindbuild.testing.RecordingProgress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Pulls of a node build against a scratch registry: once one fails, no other pull starts or reports. */
class ObtainImagesTest {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    @TempDir
    Path tmp;

    @Test
    void afterAFailedPullNoOtherPullStartsOrReports() throws Exception {
        List<String> required = new ArrayList<>();
        required.add(REGISTRY.host() + "/kind-build-test/missing:v1");
        SampleImages samples = new SampleImages(RegistryAccess.defaults(), Progress.SILENT);
        for (int i = 0; i < 8; i++) {
            ImageRef ref = ImageRef.parse(REGISTRY.host() + "/kind-build-test/present-" + i + ":v1");
            samples.push(ref, "amd64");
            required.add(ref.toString());
        }
        KubernetesArtifacts k8s = new KubernetesArtifacts("v1.31.2", "amd64", Map.of(), List.of(), "test", Optional.empty());
        RecordingProgress progress = new RecordingProgress();
        ImagePuller puller = new ImagePuller(RegistryAccess.defaults(), RegistryMirrors.parse(List.of()),
                ImageCache.at(tmp.resolve("cache")), false, progress);

        UserError e = assertThrows(UserError.class, () -> ObtainImages.run(required, k8s, puller, "amd64", tmp.resolve("work"), progress));

        assertTrue(e.getMessage().contains("kind-build-test/missing:v1"), e.getMessage());
        List<BuildEvent> events = progress.events();
        int failed = -1;
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i) instanceof BuildEvent.StepFailed) {
                failed = i;
                break;
            }
        }
        assertTrue(failed >= 0, events.toString());
        List<BuildEvent> after = events.subList(failed + 1, events.size());
        assertEquals(List.of(), after.stream().filter(ev -> ev instanceof BuildEvent.StepStarted
                || ev instanceof BuildEvent.StepFailed || ev instanceof BuildEvent.StepSucceeded).toList(),
                "no pull line may follow the failed pull");
    }
}
