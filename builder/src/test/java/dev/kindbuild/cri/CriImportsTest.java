package dev.kindbuild.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Package rules for the CRI client: gRPC, protobuf and the generated runtime.v1 classes stay inside
 * dev.kindbuild.cri (the rest of kind-build sees its small API), and dev.kindbuild.cri needs nothing of kind-build but
 * the engine (for the tunnel).
 */
class CriImportsTest {
    private static final Path MAIN = Path.of(System.getProperty("kindbuild.home", "..")).resolve("builder/src/main/java");
    private static final Pattern REFERENCE = Pattern.compile("\\b(io\\.grpc|com\\.google\\.protobuf|dev\\.kindbuild\\.cri\\.v1)\\.");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import (?:static )?([\\w.]+)");
    private static final List<String> CRI_MAY_IMPORT = List.of("java.", "io.grpc.", "dev.kindbuild.cri.", "dev.kindbuild.engine.DockerEngine");

    @Test
    void grpcAndTheGeneratedApiStayInsideTheCriPackage() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (Path file : sources()) {
            if (file.startsWith(MAIN.resolve("dev/kindbuild/cri"))) {
                continue;
            }
            Matcher m = REFERENCE.matcher(Files.readString(file));
            if (m.find()) {
                offenders.add(MAIN.relativize(file) + " uses " + m.group(1));
            }
        }
        assertEquals(List.of(), offenders);
    }

    @Test
    void theCriPackageNeedsOnlyTheEngineOfKindBuild() throws IOException {
        List<String> offenders = new ArrayList<>();
        List<Path> cri = sources().stream().filter(f -> f.startsWith(MAIN.resolve("dev/kindbuild/cri"))).toList();
        assertTrue(cri.size() >= 5, "no sources found under " + MAIN);
        for (Path file : cri) {
            Matcher m = IMPORT.matcher(Files.readString(file));
            while (m.find()) {
                String imported = m.group(1);
                if (CRI_MAY_IMPORT.stream().noneMatch(imported::startsWith)) {
                    offenders.add(MAIN.relativize(file) + " imports " + imported);
                }
            }
        }
        assertEquals(List.of(), offenders);
    }

    private static List<Path> sources() throws IOException {
        try (Stream<Path> files = Files.walk(MAIN)) {
            return files.filter(f -> f.toString().endsWith(".java")).toList();
        }
    }
}
