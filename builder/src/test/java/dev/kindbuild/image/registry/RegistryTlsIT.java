package dev.kindbuild.image.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.RecordingProgress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry serving TLS signed by a CA made for the test, with htpasswd auth on top: trusted with {@code --ca-cert}
 * (RegistryTrust.withCaCert), refused without it — never retried over plain HTTP, although it is on loopback.
 */
class RegistryTlsIT {
    static final String USER = "tls-user";
    static final String PASSWORD = "tls-Secret-9";

    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry().withTls().withHtpasswd(USER, PASSWORD);

    @TempDir
    Path tmp;

    final RecordingProgress progress = new RecordingProgress();

    RegistryClients clients(RegistryTrust trust) {
        Path config = DockerConfigs.withLogin(tmp.resolve("docker"), REGISTRY.host(), USER, PASSWORD);
        return new RegistryClients(RegistryAccess.defaults().withDockerConfig(config), trust, progress, 50);
    }

    @Test
    void pushAndPullWithThePrivateCa() throws Exception {
        ImageStore store = ImageStore.open(tmp.resolve("s"));
        StoredImage image = TestImages.image(store, Platform.linux("amd64"), "tls", List.of(TestImages.layer(store, "f", "tls")));
        ImageRef target = ImageRef.parse(REGISTRY.host() + "/kb/tls:1");
        RegistryClients clients = clients(RegistryTrust.withCaCert(REGISTRY.caCert()));
        PushResult pushed = new RegistryPush(clients, store, progress).push(image, target, Optional.empty());
        assertEquals("https", clients.forRegistry(REGISTRY.host()).base().getScheme());

        Path certDir = Files.createDirectories(tmp.resolve("certs"));
        Files.copy(REGISTRY.caCert(), certDir.resolve("ca.crt"));
        byte[] raw = RegistryClientIT.skopeo("inspect", "--cert-dir", certDir.toString(), "--creds", USER + ":" + PASSWORD,
                "--raw", "docker://" + target);
        assertEquals(pushed.digest(), "sha256:" + Sha256.of(raw));

        PullResult pulled = new RegistryPull(clients, RegistryMirrors.NONE, ImageStore.open(tmp.resolve("fresh")), progress)
                .pull(target, Platform.linux("amd64"));
        assertEquals(image.config().digest(), pulled.configDigest());
    }

    @Test
    void withoutTheCaTheCertificateIsRefusedNotBypassed() {
        ImageRef ref = ImageRef.parse(REGISTRY.host() + "/kb/tls:1");
        RegistryException e = assertThrows(RegistryException.class, () -> new RegistryPull(clients(RegistryTrust.jvmDefault()),
                RegistryMirrors.NONE, ImageStore.open(tmp.resolve("s")), progress).pull(ref, Platform.linux("amd64")));
        assertTrue(e.unreachable());
        assertTrue(e.getMessage().contains("TLS certificate not trusted") && e.getMessage().contains("--ca-cert"), e.getMessage());
        RegistryAuthIT.assertSecretFree(e, PASSWORD);
    }

    @Test
    void aCaCertThatIsNotPemIsOneClearError() throws Exception {
        Path bad = Files.writeString(tmp.resolve("ca.pem"), "not a certificate");
        UserError e = assertThrows(UserError.class, () -> RegistryTrust.withCaCert(bad));
        assertTrue(e.getMessage().startsWith("--ca-cert " + bad), e.getMessage());
    }
}
