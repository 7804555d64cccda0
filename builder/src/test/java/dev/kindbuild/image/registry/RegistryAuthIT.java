package dev.kindbuild.image.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.RecordingProgress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry with htpasswd (Basic) authentication: credentials come from a Docker config through RegistryAccess, push
 * and pull work with them, are refused without them with a hint, and never appear in any message.
 */
class RegistryAuthIT {
    static final String USER = "kind-builder";
    static final String PASSWORD = "pa55-Word-never-printed";

    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry().withHtpasswd(USER, PASSWORD);

    @TempDir
    Path tmp;

    final RecordingProgress progress = new RecordingProgress();

    RegistryClients clients(String user, String password) {
        Path config = user == null ? tmp.resolve("no-config/config.json")
                : DockerConfigs.withLogin(tmp.resolve("docker-" + password), REGISTRY.host(), user, password);
        return new RegistryClients(RegistryAccess.defaults().withDockerConfig(config), RegistryTrust.jvmDefault(), progress, 50);
    }

    StoredImage image(ImageStore store, String label) {
        return TestImages.image(store, Platform.linux("amd64"), label, List.of(TestImages.layer(store, "f", label)));
    }

    @Test
    void pushAndPullWithTheDockerConfigsCredential() throws Exception {
        ImageStore store = ImageStore.open(tmp.resolve("s"));
        StoredImage image = image(store, "with-auth");
        ImageRef target = ImageRef.parse(REGISTRY.host() + "/kb/auth:1");
        PushResult pushed = new RegistryPush(clients(USER, PASSWORD), store, progress).push(image, target, Optional.empty());

        byte[] raw = RegistryClientIT.skopeo("inspect", "--tls-verify=false", "--creds", USER + ":" + PASSWORD, "--raw",
                "docker://" + target);
        assertEquals(pushed.digest(), "sha256:" + Sha256.of(raw));

        ImageStore fresh = ImageStore.open(tmp.resolve("fresh"));
        PullResult pulled = new RegistryPull(clients(USER, PASSWORD), RegistryMirrors.NONE, fresh, progress).pull(target,
                Platform.linux("amd64"));
        assertEquals(image.config().digest(), pulled.configDigest());
        assertFalse(progress.events().toString().contains(PASSWORD), "no event carries the password");
    }

    @Test
    void withoutACredentialTheErrorSaysHowToLogIn() {
        ImageRef ref = ImageRef.parse(REGISTRY.host() + "/kb/auth:missing");
        RegistryException e = assertThrows(RegistryException.class, () -> new RegistryPull(clients(null, null),
                RegistryMirrors.NONE, ImageStore.open(tmp.resolve("s")), progress).pull(ref, Platform.linux("amd64")));
        assertEquals(401, e.status());
        assertTrue(e.getMessage().contains("docker login " + REGISTRY.host()), e.getMessage());
    }

    @Test
    void credentialsNeverAppearInErrors() {
        String wrong = "Wr0ng-secret-in-config";
        ImageRef ref = ImageRef.parse(REGISTRY.host() + "/kb/auth:any");
        RegistryException denied = assertThrows(RegistryException.class, () -> new RegistryPull(clients(USER, wrong),
                RegistryMirrors.NONE, ImageStore.open(tmp.resolve("s")), progress).pull(ref, Platform.linux("amd64")));
        assertTrue(denied.getMessage().contains("refused"), denied.getMessage());
        assertSecretFree(denied, wrong);

        // Right credential, missing image: a 404 that must not echo anything it was sent.
        RegistryException missing = assertThrows(RegistryException.class, () -> new RegistryPull(clients(USER, PASSWORD),
                RegistryMirrors.NONE, ImageStore.open(tmp.resolve("s2")), progress).pull(ref, Platform.linux("amd64")));
        assertTrue(missing.notFound(), missing.getMessage());
        assertSecretFree(missing, PASSWORD);
        assertFalse(progress.events().toString().contains(wrong));
        assertFalse(progress.events().toString().contains(PASSWORD));
    }

    static void assertSecretFree(Throwable e, String password) {
        String all = DockerConfigs.allMessages(e);
        assertFalse(all.contains(password), all);
        assertFalse(all.contains(DockerConfigs.basic(USER, password)), all);
    }
}
