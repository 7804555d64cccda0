package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.verify.Check;
import dev.kindbuild.verify.ClusterReport;
import dev.kindbuild.verify.ClusterVerifier;
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
        description = {"Boot a node image as kind would, wait for its images to load, and check versions, images, a container run and"
                + " a pod run through CRI v1 (as kubelet starts one); prints the runtime's versions.",
                "A node of another architecture boots under binfmt emulation, with no container run (qemu-user cannot start one)."})
final class VerifyCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IMAGE", description = "The node image to verify.")
    String image;

    @Option(names = "--offline", description = "Give the node no network at all, proving it needs none.")
    boolean offline;

    @Option(names = "--cluster", description = {"Create a one-node cluster as kind would, with no route out: kubeadm init,"
            + " kind's CNI and storage manifests, node Ready, a pod Running from a preloaded image, nothing pulled.",
            "Host sysctls the node's kubelet changes are restored afterwards."})
    boolean cluster;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        ImageRef.check(image, "verify IMAGE");
        if (cluster && offline) {
            throw new UserError("--cluster already gives the node no route out (it needs an address for its apiserver): drop --offline");
        }
        Progress progress = output.progress();
        try (DockerEngine engine = DockerEngine.connect()) {
            if (cluster) {
                return printCluster(new ClusterVerifier(engine, progress, output.verbose).run(image));
            }
            VerifyReport report = new NodeVerifier(engine, progress).run(image, offline);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("image", report.image());
            json.put("passed", report.passed());
            json.put("nodeMode", report.nodeMode().name().toLowerCase());
            json.put("offline", report.offline());
            json.put("architecture", report.architecture());
            json.put("bootToImagesLoadedSeconds", report.bootToImagesLoadedSeconds());
            json.put("runtime", report.runtime().map(r -> Map.of("name", r.name(), "version", r.version(), "apiVersion", r.apiVersion()))
                    .orElse(null));
            json.put("notChecked", report.notChecked());
            List<String> extra = new ArrayList<>();
            extra.add(" runtime: " + report.runtime().map(Object::toString).orElse("did not answer CRI v1 Version"));
            report.notChecked().forEach(n -> extra.add(" – not checked: " + n));
            return printChecks(json, report.checks(), report.image(), report.passed(), extra.toArray(String[]::new));
        }
    }

    private int printCluster(ClusterReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("image", report.image());
        json.put("passed", report.passed());
        json.put("nodeMode", report.nodeMode().name().toLowerCase());
        json.put("seconds", report.seconds());
        StringBuilder timings = new StringBuilder("timings:");
        report.seconds().forEach((k, v) -> timings.append(' ').append(k).append('=').append(String.format("%.1fs", v)));
        return printChecks(json, report.checks(), report.image(), report.passed(), timings.toString());
    }

    private int printChecks(Map<String, Object> json, List<Check> all, String image, boolean passed, String... extraLines) {
        List<Map<String, Object>> checks = new ArrayList<>();
        StringBuilder human = new StringBuilder();
        for (Check c : all) {
            checks.add(Map.of("name", c.name(), "ok", c.ok(), "detail", c.detail()));
            human.append(c.ok() ? " ✓ " : " ✗ ").append(c.name()).append(": ").append(c.detail()).append('\n');
        }
        json.put("checks", checks);
        for (String line : extraLines) {
            human.append(line).append('\n');
        }
        long failed = all.stream().filter(c -> !c.ok()).count();
        human.append(passed ? "PASS: " : "FAIL: ").append(image).append(" — ")
                .append(all.size() - failed).append("/").append(all.size()).append(" checks hold");
        output.print(json, human.toString());
        return passed ? 0 : 1;
    }
}
