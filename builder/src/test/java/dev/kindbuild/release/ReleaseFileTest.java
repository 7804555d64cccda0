package dev.kindbuild.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReleaseFileTest {
    @TempDir
    Path dir;

    private Path write(String yaml) throws Exception {
        return Files.writeString(dir.resolve("release.yaml"), yaml);
    }

    @Test
    void readsAReleaseFileAndPlansVersionsTimesArches() throws Exception {
        ReleaseFile f = ReleaseFile.read(write("""
                repository: registry.example/kindest/node
                versions: [v1.31.2, v1.30.6]
                arches: [amd64, arm64]
                baseImage: registry.example/kindest/base:v1
                registryMirrors: {registry.k8s.io: 127.0.0.1:5000}
                jobs: 3
                """));
        assertEquals(List.of("registry.k8s.io=127.0.0.1:5000"), f.mirrors());
        assertEquals("registry.example/kindest/node:v1.30.6", f.tag("v1.30.6"));
        ReleaseBuild.Plan plan = ReleaseBuild.Plan.of(f);
        assertEquals(List.of("v1.31.2 amd64", "v1.31.2 arm64", "v1.30.6 amd64", "v1.30.6 arm64"),
                plan.targets().stream().map(ReleaseBuild.Target::label).toList());
        assertTrue(plan.lines().get(0).startsWith("4 node images (2 versions × 2 arches), 3 at a time"), plan.lines().get(0));
    }

    @Test
    void badFilesGetOneLineNamingTheKey() throws Exception {
        Path f = write("repository: r.example/node\nversions: [v1.31.2]\nversion: v1\n");
        assertTrue(assertThrows(UserError.class, () -> ReleaseFile.read(f)).getMessage().contains("unknown key 'version'"));
        Path noVersions = write("repository: r.example/node\narches: [amd64]\n");
        assertTrue(assertThrows(UserError.class, () -> ReleaseFile.read(noVersions)).getMessage().contains("'versions' is missing"));
        Path tagged = write("repository: r.example/node:v1\nversions: [v1.31.2]\n");
        assertTrue(assertThrows(UserError.class, () -> ReleaseFile.read(tagged)).getMessage().contains("has a tag or digest"));
        Path badArch = write("repository: r.example/node\nversions: [v1.31.2]\narches: [s390]\n");
        assertTrue(assertThrows(UserError.class, () -> ReleaseFile.read(badArch)).getMessage().contains("unknown --arch 's390'"));
        assertTrue(assertThrows(UserError.class, () -> ReleaseFile.read(dir.resolve("none.yaml"))).getMessage().contains("does not exist"));
    }

    @Test
    void aPlainHttpReleaseServerElsewhereNeedsTheFilesConsent() throws Exception {
        Path refused = write("repository: r.example/node\nversions: [v1.31.2]\nkubernetesReleaseUrl: http://10.0.0.5:8080\n");
        String message = assertThrows(UserError.class, () -> ReleaseFile.read(refused)).getMessage();
        assertTrue(message.contains("kubernetesReleaseUrl http://10.0.0.5:8080 is plain HTTP") && message.contains("allowInsecureHttp: true"), message);
        Path allowed = write("repository: r.example/node\nversions: [v1.31.2]\nkubernetesReleaseUrl: http://10.0.0.5:8080\nallowInsecureHttp: true\n");
        assertTrue(ReleaseFile.read(allowed).allowInsecureHttp());
        Path loopback = write("repository: r.example/node\nversions: [v1.31.2]\nkubernetesReleaseUrl: http://127.0.0.1:8080\n");
        assertFalse(ReleaseFile.read(loopback).allowInsecureHttp());
        Path notABoolean = write("repository: r.example/node\nversions: [v1.31.2]\nallowInsecureHttp: maybe\n");
        assertTrue(assertThrows(UserError.class, () -> ReleaseFile.read(notABoolean)).getMessage().contains("must be true or false"));
    }

    @Test
    void dryRunPrintsThePlanAndTouchesNothing() throws Exception {
        Path f = write("repository: r.example/kindest/node\nversions: [v1.31.2]\narches: [amd64, arm64]\n");
        CliRun run = CliRun.of("release", f.toString(), "--dry-run");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("r.example/kindest/node:v1.31.2  ← linux/amd64 + linux/arm64, Kubernetes v1.31.2 from https://dl.k8s.io"), run.out());
        CliRun json = CliRun.of("release", f.toString(), "--dry-run", "--json");
        com.fasterxml.jackson.databind.JsonNode plan = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
        assertEquals("arm64", plan.path("targets").path(1).path("arch").asText(), json.out());
        assertEquals("r.example/kindest/node:v1.31.2", plan.path("targets").path(1).path("tag").asText());
    }

    @Test
    void waitIsForFinalizeAndIsADuration() throws Exception {
        Path f = write("repository: r.example/kindest/node\nversions: [v1.31.2]\n");
        CliRun alone = CliRun.of("release", f.toString(), "--wait", "5m");
        assertEquals(1, alone.exit());
        assertTrue(alone.err().contains("--wait is for --finalize"), alone.err());
        CliRun bad = CliRun.of("release", f.toString(), "--finalize", "--wait", "5 minutes");
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("--wait 5 minutes: give a duration such as 90s, 30m or 2h"), bad.err());
    }

    /** A password in any reference of the file: one line naming the key, never the password, for read and dry run. */
    @Test
    void credentialsInTheFileAreRefusedWithoutPrintingThem() throws Exception {
        String head = "repository: 127.0.0.1:5092/kindest/node\nversions: [v1.31.2]\n";
        for (String yaml : List.of("repository: kbuser:Secret@127.0.0.1:5092/kindest/node\nversions: [v1.31.2]\n",
                head + "extraImages: [kbuser:Secret@127.0.0.1:5092/tools/debug:1]\n",
                head + "registryMirrors: {registry.k8s.io: \"kbuser:Secret@127.0.0.1:5092\"}\n",
                head + "baseImage: kbuser:Secret@127.0.0.1:5092/kindest/base:v1\n",
                head + "insecureRegistries: [\"kbuser:Secret@127.0.0.1:5092\"]\n")) {
            Path f = write(yaml);
            UserError e = assertThrows(UserError.class, () -> ReleaseFile.read(f), yaml);
            assertFalse(e.getMessage().contains("Secret") || e.getMessage().contains("kbuser"), e.getMessage());
            assertTrue(e.getMessage().startsWith(f + ": ") && e.getMessage().contains("docker login 127.0.0.1:5092"), e.getMessage());
            for (String json : List.of("--verbose", "--json")) {
                CliRun run = CliRun.of("release", f.toString(), "--dry-run", json);
                assertEquals(1, run.exit(), yaml + run.out());
                assertFalse(run.out().contains("Secret") || run.err().contains("Secret"), run.out() + run.err());
                assertEquals(1, run.err().strip().lines().count(), run.err());
            }
        }
    }

    @Test
    void aReleaseUrlsCredentialsAreUsedButNotPrintedByTheDryRun() throws Exception {
        Path f = write("repository: r.example/kindest/node\nversions: [v1.31.2]\nkubernetesReleaseUrl: https://kbuser:Secret@dl.example/k8s\n");
        assertEquals("kbuser:Secret", ReleaseFile.read(f).releaseUrl().getUserInfo(), "the downloader still gets them");
        for (String json : List.of("--verbose", "--json")) {
            CliRun run = CliRun.of("release", f.toString(), "--dry-run", json);
            assertEquals(0, run.exit(), run.err());
            assertFalse(run.out().contains("Secret") || run.err().contains("Secret"), run.out() + run.err());
        }
        assertTrue(CliRun.of("release", f.toString(), "--dry-run").out().contains("from https://dl.example/k8s"));
    }
}
