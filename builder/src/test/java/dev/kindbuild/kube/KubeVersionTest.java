package dev.kindbuild.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class KubeVersionTest {

    @ParameterizedTest
    @CsvSource({
        "1.31.2, v1.31.2",
        "v1.31.2, v1.31.2",
        "' v1.31.2\n', v1.31.2",
        "v1.32.0-rc.1, v1.32.0-rc.1",
        "1.33.0-alpha.0.123+abcdef012345, v1.33.0-alpha.0.123+abcdef012345",
        "v0.0.0, v0.0.0",
    })
    void normalises(String in, String out) {
        assertEquals(Optional.of(out), KubeVersion.normalize(in));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1.31", "v1", "latest", "vv1.31.2", "V1.31.2", "1.31.2.4", "01.31.2", "v1.31.02",
        "v1.31.2-", "v1.31.2-rc..1", "v1.31.2-01", "v1.31.2 extra", "ci/latest"})
    void rejectsNonSemver(String in) {
        assertEquals(Optional.empty(), KubeVersion.normalize(in));
    }

    @Test
    void parseErrorIsOneLineNamingTheSource() {
        UserError e = assertThrows(UserError.class, () -> KubeVersion.parse("1.31", "kubernetes/version"));
        assertTrue(e.getMessage().startsWith("kubernetes/version: \"1.31\" is not a Kubernetes version"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void ordersBySemverPrecedence() {
        String[] ascending = {"v1.23.17", "v1.24.0-alpha.1", "v1.24.0-alpha.2", "v1.24.0-alpha.10", "v1.24.0-beta.0",
            "v1.24.0-rc.1", "v1.24.0", "v1.24.1", "v1.100.0"};
        for (int i = 0; i + 1 < ascending.length; i++) {
            KubeVersion a = KubeVersion.parse(ascending[i], "t");
            KubeVersion b = KubeVersion.parse(ascending[i + 1], "t");
            assertTrue(a.isBefore(b), a + " < " + b);
            assertTrue(b.compareTo(a) > 0);
        }
        assertEquals(0, KubeVersion.parse("v1.2.3+a", "t").compareTo(KubeVersion.parse("v1.2.3+b", "t")));
        assertEquals("v1.31", KubeVersion.parse("1.31.2", "t").minorLine());
    }
}
