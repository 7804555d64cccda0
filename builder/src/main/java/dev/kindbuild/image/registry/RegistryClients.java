package dev.kindbuild.image.registry;

import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.progress.Progress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link RegistryClient} per registry host for a run, so the scheme, the auth challenge and the tokens are
 * learned once however many images a build pulls and pushes. Thread-safe.
 */
public final class RegistryClients {
    private final RegistryAccess access;
    private final RegistryTrust trust;
    private final Progress progress;
    private final long backoffMillis;
    private final Map<String, RegistryClient> byRegistry = new ConcurrentHashMap<>();

    public RegistryClients(RegistryAccess access, RegistryTrust trust, Progress progress) {
        this(access, trust, progress, 500);
    }

    /** For tests: a shorter first retry delay. */
    RegistryClients(RegistryAccess access, RegistryTrust trust, Progress progress, long backoffMillis) {
        this.access = access;
        this.trust = trust;
        this.progress = progress;
        this.backoffMillis = backoffMillis;
    }

    public RegistryClient forRegistry(String registry) {
        // ImageRef's normalisation (docker.io aliases, case), so "Index.Docker.io" and "docker.io" share a client.
        String key = ImageRef.parse(registry + "/x").registry();
        return byRegistry.computeIfAbsent(key, r -> new RegistryClient(r, access, trust, progress, backoffMillis));
    }

    public RegistryAccess access() {
        return access;
    }
}
