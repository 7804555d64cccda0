package dev.kindbuild.release;

import dev.kindbuild.UserError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * `release FILE --plan github-actions`: the same release as a GitHub Actions workflow — a matrix job with one entry
 * per shard, then a finalize job that needs them all. Each step runs kind-build's image with {@code docker run} on the
 * runner, as the runner's user: the checkout is the release file's folder, the runner's Docker login its registry
 * credentials, a folder of the runner its cache volume. Plain YAML a user commits under
 * {@code .github/workflows/}.
 *
 * @param name        the workflow's name
 * @param releaseFile the release file, relative to the repository root (where the workflow runs)
 * @param shards      how many matrix entries
 * @param image       kind-build's image
 * @param registry    the registry the release pushes to (its login step)
 */
public record WorkflowPlan(String name, String releaseFile, int shards, String image, String registry) {

    public static WorkflowPlan of(ReleaseFile release, Path file, int shards, String image) {
        Path relative = file.isAbsolute() ? Path.of("").toAbsolutePath().relativize(file) : file.normalize();
        if (relative.startsWith("..")) {
            throw new UserError("--plan github-actions: " + file + " is not inside this folder; run it from the repository root"
                    + " with the release file's path in the repository");
        }
        return new WorkflowPlan("release-" + release.inputsDigest().substring(0, 8), relative.toString(), shards, image,
                release.repository().registry());
    }

    /** The workflow, as YAML. */
    public String yaml() {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setSplitLines(false);
        Map<String, Object> workflow = new LinkedHashMap<>();
        workflow.put("name", name);
        workflow.put("on", Map.of("workflow_dispatch", Map.of()));
        workflow.put("permissions", Map.of("contents", "read"));
        Map<String, Object> jobs = new LinkedHashMap<>();
        List<Integer> matrix = new ArrayList<>();
        for (int i = 1; i <= shards; i++) {
            matrix.add(i);
        }
        Map<String, Object> shard = job("--shard ${{ matrix.shard }}/" + shards);
        shard.put("strategy", Map.of("fail-fast", false, "matrix", Map.of("shard", matrix)));
        jobs.put("shard", shard);
        Map<String, Object> finalize = job("--finalize");
        finalize.put("needs", "shard");
        jobs.put("finalize", finalize);
        workflow.put("jobs", jobs);
        return "# Made by: kind-build release " + releaseFile + " --plan github-actions\n"
                + "# Needs the secrets REGISTRY_USER and REGISTRY_PASSWORD with push access to " + registry + ".\n"
                + new Yaml(options).dump(workflow);
    }

    private Map<String, Object> job(String args) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("runs-on", "ubuntu-latest");
        List<Object> steps = new ArrayList<>();
        steps.add(Map.of("uses", "actions/checkout@v4"));
        steps.add(Map.of("name", "Log in to " + registry, "run",
                "echo \"${{ secrets.REGISTRY_PASSWORD }}\" | docker login " + registry + " -u \"${{ secrets.REGISTRY_USER }}\" --password-stdin"));
        // As the runner's user: the Docker config it logged in with is readable, the checkout and cache are its own.
        steps.add(Map.of("name", "kind-build release " + args, "run", String.join(" ",
                "mkdir -p \"$RUNNER_TEMP/kind-build-cache\" &&",
                "docker run --rm --user \"$(id -u):$(id -g)\" --read-only",
                "-v \"$PWD:/work:ro\" -w /work",
                "-v \"$HOME/.docker:/docker:ro\" -e DOCKER_CONFIG=/docker",
                "-v \"$RUNNER_TEMP/kind-build-cache:" + ClusterPlan.CACHE + "\"",
                image, "release", releaseFile, args)));
        job.put("steps", steps);
        return job;
    }
}
