package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** kind's handling of default-cni.yaml: templated only with the marker, patched only with the other marker. */
class KindCniManifestTest {
    static final String DS = "kind: DaemonSet\nspec:\n  template:\n    spec:\n      containers:\n      - name: cni\n        env:\n"
            + "        - name: POD_SUBNET\n          value: \"{{ .PodSubnet }}\"\n";

    @Test
    void withoutTheMarkerKindLeavesFieldsVerbatim() {
        String rendered = KindCniManifest.render(DS, "10.244.0.0/16", "n:6443");
        assertEquals(DS, rendered);
        assertTrue(KindCniManifest.hasUnrenderedFields(rendered));
    }

    @Test
    void theMarkerFillsThePodSubnet() {
        String manifest = "# " + KindCniManifest.TEMPLATE_MARKER + "\n" + DS;
        String rendered = KindCniManifest.render(manifest, "10.244.0.0/16", "n:6443");
        assertTrue(rendered.contains("value: \"10.244.0.0/16\""), rendered);
        assertFalse(rendered.contains("{{"), rendered);
        assertFalse(KindCniManifest.hasUnrenderedFields(rendered));
    }

    @Test
    void otherFieldsFailAsKindWould() {
        String manifest = "# " + KindCniManifest.TEMPLATE_MARKER + "\n" + DS + "        - name: X\n          value: \"{{ .ControlPlaneEndpoint }}\"\n";
        UserError e = assertThrows(UserError.class, () -> KindCniManifest.render(manifest, "10.244.0.0/16", "n:6443"));
        assertEquals("default-cni.yaml uses template field {{ .ControlPlaneEndpoint }}; kind fills only {{ .PodSubnet }}", e.getMessage());
    }

    @Test
    void thePatchMarkerAddsTheEndpointEnv() {
        String manifest = "# " + KindCniManifest.TEMPLATE_MARKER + "\n# " + KindCniManifest.PATCH_MARKER + "\n" + DS;
        String rendered = KindCniManifest.render(manifest, "10.244.0.0/16", "172.18.0.2:6443");
        assertTrue(rendered.contains("name: CONTROL_PLANE_ENDPOINT"), rendered);
        assertTrue(rendered.contains("value: 172.18.0.2:6443"), rendered);
        assertTrue(rendered.contains("value: 10.244.0.0/16"), rendered);
    }

    @Test
    void theBundledManifestCarriesKindsMarkersAndOnlyPodSubnet() throws Exception {
        Path bundled = Path.of(System.getProperty("kindbuild.home", "..")).resolve("manifests/default-cni.yaml");
        String manifest = Files.readString(bundled);
        assertTrue(manifest.contains(KindCniManifest.TEMPLATE_MARKER));
        String rendered = KindCniManifest.render(manifest, "10.244.0.0/16", "172.18.0.2:6443");
        assertTrue(rendered.contains("value: 10.244.0.0/16"), rendered);
        assertFalse(rendered.contains("{{"), rendered);
    }
}
