package dev.kindbuild.components;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanComponentsTest {
    private final ComponentsFile file = ComponentsFile.bundled();

    private ComponentPlan plan(String name, String request, String arch) {
        Map<String, ComponentRequest> requests = request == null ? Map.of() : Map.of(name, ComponentRequest.parse(name, request));
        return PlanComponents.plan(file, requests, arch).stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void bundledFileDeclaresKindsPinsAndDebianStandIns() {
        assertEquals(List.of("containerd", "runc", "crictl", "cni-plugins"), List.copyOf(file.components().keySet()));
        assertTrue(file.get("containerd").version().startsWith("2.3."));
        assertTrue(file.get("runc").version().startsWith("1.4."));
        assertTrue(file.get("crictl").version().startsWith("1.36."));
        assertTrue(file.get("cni-plugins").version().startsWith("1.9."));
        assertEquals("containerd", file.get("containerd").debian().orElseThrow().name());
        assertTrue(file.get("crictl").debian().isEmpty(), "Debian packages no crictl");
        assertEquals("/usr/local/sbin/runc", file.get("runc").install().binary().orElseThrow());
        assertEquals("/opt/cni/bin/", file.get("cni-plugins").install().to());
    }

    @Test
    void defaultTriesUpstreamWithAVerifiedDigestOrThePublishedChecksumAndFallsBackToSid() {
        ComponentPlan crictl = plan("crictl", null, "amd64");
        assertEquals(Optional.of("https://github.com/kubernetes-sigs/cri-tools/releases/download/v1.36.0/crictl-v1.36.0-linux-amd64.tar.gz"),
                crictl.url());
        assertTrue(crictl.sha256().isPresent());
        assertTrue(crictl.checksumUrl().isEmpty());
        assertTrue(crictl.debian().isEmpty());

        ComponentPlan containerd = plan("containerd", null, "amd64");
        assertTrue(containerd.sha256().isEmpty());
        assertEquals(Optional.of(containerd.url().orElseThrow() + ".sha256sum"), containerd.checksumUrl());
        assertEquals(Optional.of(new Component.DebianCandidate("sid", "2.1.9")), containerd.debian());
        assertFalse(containerd.explicit());
    }

    @Test
    void aShortVersionGoesStraightToDebianAndTheOthersFollowContainerdsSuite() {
        List<ComponentPlan> plans = PlanComponents.plan(file, Map.of("containerd", ComponentRequest.parse("containerd", "1.7")), "amd64");
        ComponentPlan containerd = plans.get(0);
        assertTrue(containerd.url().isEmpty(), "1.7 names no upstream release");
        assertEquals(Optional.of(new Component.DebianCandidate("trixie", "1.7.24")), containerd.debian());
        assertEquals("trixie", plans.get(1).debian().orElseThrow().suite(), "runc follows containerd's suite");
        assertEquals("trixie", plans.get(3).debian().orElseThrow().suite(), "so do the CNI plugins");
        assertTrue(plans.get(2).debian().isEmpty());
    }

    @Test
    void aFullVersionTriesItsUpstreamReleaseThenAMatchingDebianPackage() {
        ComponentPlan p = plan("containerd", "v2.1.9", "arm64");
        assertEquals(Optional.of("https://github.com/containerd/containerd/releases/download/v2.1.9/containerd-2.1.9-linux-arm64.tar.gz"), p.url());
        assertEquals(Optional.of(new Component.DebianCandidate("sid", "2.1.9")), p.debian());
        ComponentPlan other = plan("containerd", "2.2.0", "amd64");
        assertTrue(other.debian().isEmpty(), "no Debian package is 2.2.0: never silently another version");
        assertTrue(other.explicit());
    }

    @Test
    void aVersionNothingCanSatisfyIsRefusedBeforeAnyWork() {
        UserError e = assertThrows(UserError.class, () -> plan("containerd", "2.2", "amd64"));
        assertTrue(e.getMessage().startsWith("containerd 2.2 cannot be had"), e.getMessage());
        assertTrue(e.getMessage().contains("2.1.9 (sid)") && e.getMessage().contains("1.7.24 (trixie)"), e.getMessage());
        assertThrows(UserError.class, () -> plan("crictl", "1.36", "amd64"));
    }

    @Test
    void anArchWithoutAnyChecksumIsNeverDownloaded() {
        Component c = file.get("crictl");
        Component noSum = new Component(c.name(), c.version(), c.url(), Optional.empty(), Map.of("amd64", c.sha256().get("amd64")), c.install(), c.debian());
        assertTrue(PlanComponents.planOne(noSum, ComponentRequest.DEFAULT, "arm64", Optional.empty()).url().isEmpty());
        assertTrue(PlanComponents.planOne(noSum, ComponentRequest.DEFAULT, "amd64", Optional.empty()).url().isPresent());
    }

    @Test
    void requestsAreVersionsUrlsOrFiles(@TempDir Path dir) throws Exception {
        assertEquals(new ComponentRequest(ComponentRequest.Kind.VERSION, "2.1.9"), ComponentRequest.parse("containerd", "v2.1.9"));
        assertEquals(ComponentRequest.Kind.URL, ComponentRequest.parse("runc", "https://example.test/runc.amd64").kind());
        Path f = Files.writeString(dir.resolve("crictl.tar.gz"), "x");
        assertEquals(new ComponentRequest(ComponentRequest.Kind.FILE, f.toString()), ComponentRequest.parse("crictl", f.toString()));
        assertEquals(ComponentRequest.DEFAULT, ComponentRequest.parse("crictl", null));
        UserError e = assertThrows(UserError.class, () -> ComponentRequest.parse("containerd", "latest"));
        assertTrue(e.getMessage().startsWith("invalid --containerd 'latest'"), e.getMessage());
        assertTrue(ComponentRequest.parse("containerd", "1.7").matches("1.7.24"));
        assertFalse(ComponentRequest.parse("containerd", "1.7").matches("1.70.1"));
    }

    @Test
    void malformedFilesAreOneLineNamingTheEntry() {
        UserError e = assertThrows(UserError.class, () -> ComponentsFile.parse("containerd: {version: 1}\n", "f.yaml"));
        assertTrue(e.getMessage().startsWith("f.yaml, containerd: no url"), e.getMessage());
        String text = file.toString();
        assertFalse(text.isEmpty());
        UserError bad = assertThrows(UserError.class, () -> ComponentsFile.parse(
                "containerd: {version: 1, url: 'https://x/{version}', sha256: {amd64: nothex}, binary: /x}\n", "g.yaml"));
        assertTrue(bad.getMessage().contains("not a SHA-256"), bad.getMessage());
    }

    @Test
    void fetchTellsAnUnreachableServerFromOneThatAnswered() {
        assertTrue(FetchComponents.unreachable(new UserError("download failed", new java.net.ConnectException("refused"))));
        assertTrue(FetchComponents.unreachable(new UserError("x", new java.io.IOException(new java.net.UnknownHostException("h")))));
        assertFalse(FetchComponents.unreachable(new UserError("checksum mismatch for …")));
        assertEquals("2.3.1", FetchComponents.versionIn("containerd-2.3.1-linux-amd64.tar.gz"));
        assertEquals("1.36.0", FetchComponents.versionIn("crictl-v1.36.0-linux-amd64.tar.gz"));
        assertEquals("", FetchComponents.versionIn("runc.amd64"));
    }

    @Test
    void debianChoicesNameTheirSuiteOnlyWhenItIsNotTheBases() {
        ComponentPlan p = plan("containerd", null, "amd64");
        ComponentChoice sid = new ComponentChoice("containerd", "2.1.9", ComponentChoice.Source.DEBIAN, "sid", Optional.empty(), Optional.empty(), p);
        ComponentChoice absent = new ComponentChoice("crictl", "", ComponentChoice.Source.ABSENT, "", Optional.empty(), Optional.empty(), plan("crictl", null, "amd64"));
        assertEquals(List.of("containerd/sid"), ComponentFiles.aptPackages(List.of(sid, absent), "trixie"));
        assertEquals(List.of("containerd"), ComponentFiles.aptPackages(List.of(sid), "sid"));
        assertEquals(List.of("sid"), ComponentFiles.extraSuites(List.of(sid, absent), "trixie"));
        assertEquals("debian sid", sid.sourceText());
        assertEquals("absent", absent.sourceText());
    }
}
