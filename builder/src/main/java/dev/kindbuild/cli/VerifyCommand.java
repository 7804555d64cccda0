package dev.kindbuild.cli;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.verify.Check;
import dev.kindbuild.verify.NodeVerifier;
import dev.kindbuild.verify.VerifyReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `kind-build verify IMAGE`: boots a node image and checks it is ready for `kind create cluster`. Exit 0 only if all checks hold. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Boot a node image as kind would, wait for its images to load, and check versions, images and a container run.")
final class VerifyCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The node image to verify.")
    String image;

    @Option(names = "--offline", description = "Give the node no network at all, proving it needs none.")
    boolean offline;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        ImageRef.check(image, "verify IMAGE");
        Progress progress = output.progress();
        try (DockerEngine engine = DockerEngine.connect()) {
            VerifyReport report = new NodeVerifier(engine, progress).run(image, offline);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("image", report.image());
            json.put("passed", report.passed());
            json.put("nodeMode", report.nodeMode().name().toLowerCase());
            json.put("offline", report.offline());
            json.put("bootToImagesLoadedSeconds", report.bootToImagesLoadedSeconds());
            List<Map<String, Object>> checks = new ArrayList<>();
            StringBuilder human = new StringBuilder();
            for (Check c : report.checks()) {
                checks.add(Map.of("name", c.name(), "ok", c.ok(), "detail", c.detail()));
                human.append(c.ok() ? " ✓ " : " ✗ ").append(c.name()).append(": ").append(c.detail()).append('\n');
            }
            json.put("checks", checks);
            long failed = report.checks().stream().filter(c -> !c.ok()).count();
            human.append(report.passed() ? "PASS: " : "FAIL: ").append(report.image()).append(" — ")
                    .append(report.checks().size() - failed).append("/").append(report.checks().size()).append(" checks hold");
            output.print(json, human.toString());
            return report.passed() ? 0 : 1;
        }
    }
}
