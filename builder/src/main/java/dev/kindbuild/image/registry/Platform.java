package dev.kindbuild.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kindbuild.UserError;
import java.util.Locale;
import java.util.Objects;

/**
 * An image platform, {@code os/architecture[/variant]} as in an OCI index ({@code linux/arm64/v8}). Matching is strict
 * — no other architecture is ever taken instead — but, as containerd does, a missing variant means the
 * architecture's default one ({@code arm64} = {@code arm64/v8}, {@code arm} = {@code arm/v7}).
 *
 * @param variant empty when none was given
 */
public record Platform(String os, String architecture, String variant) {
    public Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
        variant = variant == null ? "" : variant;
    }

    public static Platform linux(String architecture) {
        return new Platform("linux", architecture, "");
    }

    /** {@code linux/arm64}, {@code linux/arm/v7}; a bare architecture means linux. */
    public static Platform parse(String text) {
        String[] parts = text.strip().toLowerCase(Locale.ROOT).split("/", -1);
        if (parts.length == 1 && !parts[0].isEmpty()) {
            return linux(parts[0]);
        }
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new UserError("invalid platform \"" + text + "\" (expected os/architecture[/variant], e.g. linux/arm64)");
        }
        return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : "");
    }

    /** The {@code platform} object of an index entry, or an image config's os/architecture/variant. */
    public static Platform of(JsonNode node) {
        return new Platform(node.path("os").asText(""), node.path("architecture").asText(""), node.path("variant").asText(""));
    }

    public boolean matches(Platform other) {
        return os.equals(other.os) && architecture.equals(other.architecture)
                && normalizedVariant().equals(other.normalizedVariant());
    }

    private String normalizedVariant() {
        if (!variant.isEmpty()) {
            return variant;
        }
        return switch (architecture) {
            case "arm64" -> "v8";
            case "arm" -> "v7";
            default -> "";
        };
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
    }
}
