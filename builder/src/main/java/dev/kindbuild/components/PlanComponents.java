package dev.kindbuild.components;

import dev.kindbuild.UserError;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Step logic: turns the components file and the requests into one {@link ComponentPlan} per component, or refuses —
 * before any download — a request nothing can satisfy (an explicit version that is neither an upstream release nor
 * a Debian package).
 */
public final class PlanComponents {
    private PlanComponents() {}

    public static List<ComponentPlan> plan(ComponentsFile file, Map<String, ComponentRequest> requests, String arch) {
        List<ComponentPlan> plans = new ArrayList<>();
        // containerd first: the others follow its Debian suite when they fall back and were not pinned.
        Optional<String> containerdSuite = Optional.empty();
        for (String name : ComponentsFile.NAMES) {
            Component c = file.get(name);
            ComponentRequest r = requests.getOrDefault(name, ComponentRequest.DEFAULT);
            ComponentPlan p = planOne(c, r, arch, containerdSuite);
            if (name.equals("containerd")) {
                containerdSuite = p.debian().map(Component.DebianCandidate::suite);
            }
            plans.add(p);
        }
        return List.copyOf(plans);
    }

    static ComponentPlan planOne(Component c, ComponentRequest r, String arch, Optional<String> followSuite) {
        List<Component.DebianCandidate> candidates = c.debian().map(Component.DebianPackage::versions).orElse(List.of());
        return switch (r.kind()) {
            case FILE -> new ComponentPlan(c, r, "", Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(r.value()), Optional.empty());
            case URL -> new ComponentPlan(c, r, "", Optional.of(r.value()), Optional.empty(), Optional.of(r.value() + ".sha256"),
                    Optional.empty(), Optional.empty());
            case DEFAULT -> {
                Optional<String> sha = Optional.ofNullable(c.sha256().get(arch));
                Optional<String> sumUrl = sha.isPresent() ? Optional.empty() : c.checksumFor(c.version(), arch);
                // An arch with neither a digest here nor a published checksum is never downloaded.
                Optional<String> url = sha.isPresent() || sumUrl.isPresent() ? Optional.of(c.urlFor(c.version(), arch)) : Optional.empty();
                Optional<Component.DebianCandidate> debian = followSuite
                        .flatMap(s -> candidates.stream().filter(d -> d.suite().equals(s)).findFirst())
                        .or(() -> candidates.stream().findFirst());
                yield new ComponentPlan(c, r, c.version(), url, sha, sumUrl, Optional.empty(), debian);
            }
            case VERSION -> {
                Optional<Component.DebianCandidate> debian = candidates.stream().filter(d -> r.matches(d.version())).findFirst();
                Optional<String> url = Optional.empty();
                Optional<String> sha = Optional.empty();
                Optional<String> sumUrl = Optional.empty();
                if (r.fullVersion()) {
                    sha = r.value().equals(c.version()) ? Optional.ofNullable(c.sha256().get(arch)) : Optional.empty();
                    sumUrl = sha.isPresent() ? Optional.empty() : c.checksumFor(r.value(), arch);
                    url = sha.isPresent() || sumUrl.isPresent() ? Optional.of(c.urlFor(r.value(), arch)) : Optional.empty();
                }
                if (url.isEmpty() && debian.isEmpty()) {
                    throw new UserError(c.name() + " " + r.value() + " cannot be had: " + (r.fullVersion() ? "upstream publishes no checksum to verify it"
                            : "a version this short names no upstream release") + ", and Debian has " + debianList(candidates)
                            + ": give --" + c.name() + " with one of those, a full version (x.y.z) or a URL/file");
                }
                yield new ComponentPlan(c, r, r.fullVersion() ? r.value() : debian.map(Component.DebianCandidate::version).orElse(r.value()),
                        url, sha, sumUrl, Optional.empty(), debian);
            }
        };
    }

    static String debianList(List<Component.DebianCandidate> candidates) {
        return candidates.isEmpty() ? "no package of it" : candidates.stream().map(d -> d.version() + " (" + d.suite() + ")")
                .collect(Collectors.joining(", "));
    }
}
