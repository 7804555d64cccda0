package dev.kindbuild.image.registry;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.progress.Progress;
import java.util.List;

/**
 * --push of an image the engine holds. The engine pushes it (so the image stays exactly as built: jib would drop the
 * stop signal systemd needs); kind-build enforces its TLS rule first — plain HTTP only to loopback registries or ones
 * named with --insecure-registry — and says what to change when the engine's own setting disagrees.
 */
public final class EnginePush {
    private EnginePush() {}

    /** Pushes {@code image} from the engine; returns the pushed manifest digest. */
    public static String push(DockerEngine engine, String image, List<String> insecureRegistries, Progress progress) {
        ImageRef target = ImageRef.parse(image);
        String registry = target.registry();
        if (target.isDockerHub() && !image.startsWith("docker.io/")) {
            throw new UserError("--push needs a registry in the image name (e.g. 127.0.0.1:5000/" + image
                    + "); to push to Docker Hub say docker.io/" + image);
        }
        RegistryAccess access = RegistryAccess.of(insecureRegistries);
        boolean plainAllowed = access.allowsPlainHttp(registry);
        boolean engineInsecure = engine.engineTreatsAsInsecure(registry);
        if (engineInsecure && !plainAllowed) {
            throw new UserError("the engine would push to " + registry + " over plain HTTP; if you trust it, pass --insecure-registry " + registry);
        }
        if (plainAllowed && !engineInsecure && !RegistryAccess.isLoopback(registry)) {
            progress.notice("the engine only speaks TLS to " + registry + "; to allow plain HTTP add it to dockerd's insecure-registries");
        }
        return progress.step("Pushing " + image, () -> engine.push(image, progress::detail), d -> d.substring(0, 19));
    }
}
