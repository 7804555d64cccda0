package dev.kindbuild.image.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Strict platform matching (default variants as containerd has them) and WWW-Authenticate parsing. */
class PlatformTest {
    @Test
    void matchesStrictlyWithDefaultVariants() {
        assertTrue(Platform.parse("linux/arm64").matches(Platform.parse("linux/arm64/v8")));
        assertTrue(Platform.parse("arm64").matches(Platform.parse("linux/arm64")));
        assertTrue(Platform.parse("linux/arm").matches(Platform.parse("linux/arm/v7")));
        assertFalse(Platform.parse("linux/arm").matches(Platform.parse("linux/arm/v6")));
        assertFalse(Platform.parse("linux/amd64").matches(Platform.parse("linux/arm64")));
        assertFalse(Platform.parse("linux/amd64").matches(Platform.parse("windows/amd64")));
        assertEquals("linux/arm/v7", Platform.parse("Linux/ARM/v7").toString());
        assertThrows(UserError.class, () -> Platform.parse("linux/"));
    }

    @Test
    void parsesBearerAndBasicChallenges() {
        AuthChallenge bearer = AuthChallenge.parse(
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"")
                .orElseThrow();
        assertTrue(bearer.isBearer());
        assertEquals("https://auth.docker.io/token", bearer.realm());
        assertEquals("registry.docker.io", bearer.service().orElseThrow());
        assertEquals("repository:library/busybox:pull", bearer.scope().orElseThrow());

        AuthChallenge basic = AuthChallenge.parse("Basic realm=\"kind, \\\"build\\\"\"").orElseThrow();
        assertTrue(basic.isBasic());
        assertEquals(Map.of("realm", "kind, \"build\""), basic.params());
        assertTrue(AuthChallenge.parse("Negotiate abc").isEmpty());
        assertTrue(AuthChallenge.parse(null).isEmpty());
    }
}
