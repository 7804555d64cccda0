package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.recipe.RecipeTree;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader's job pool (node-image/files/kind/bin/job-pool.sh, the bytes the jar ships) under many short jobs, with
 * bash's own {@code wait}. The pool it replaced trusted {@code wait -n -p} and died in about 8 of 100 runs of 600 jobs:
 * two shells of 1,200 jobs catch it in about one run of four (the figures: bench/job-pool.sh).
 */
class JobPoolTest {
    private static final int SHELLS = 2;
    private static final int ROUNDS = 40;

    /** Per round: 30 jobs, two at a time; every seventh fails with its own message. Checks both ledgers each round. */
    private static final String STRESS = """
            set -o nounset -o pipefail
            JOB_DIR=$(mktemp -d) JOBS=2
            trap 'rm -rf "$JOB_DIR"' EXIT
            . "$1"
            for ((r = 1; r <= %d; r++)); do
              job_err=()
              for ((k = 1; k <= 30; k++)); do
                if ((k %% 7 == 0)); then spawn "k$k" sh -c "echo no k$k; exit 3"; else spawn "k$k" true; fi
              done
              reap_all
              ((${#job_key[@]} == 0)) || { echo "round $r: ${#job_key[@]} job(s) never collected"; exit 1; }
              [[ ${!job_err[*]} == *k7* && ${#job_err[@]} == 4 ]] || { echo "round $r: failures ${!job_err[*]}"; exit 1; }
              [[ ${job_err[k14]} == "no k14 (exit 3)" ]] || { echo "round $r: k14 said '${job_err[k14]}'"; exit 1; }
              x=$(echo between rounds)
            done
            echo "all $((r - 1)) rounds"
            """.formatted(ROUNDS);

    @Test
    void everyJobIsCollectedWithItsFailureUnderManyShortJobs(@TempDir Path dir) throws Exception {
        Path pool = dir.resolve("job-pool.sh");
        Files.write(pool, RecipeTree.load("node-image").file("files/kind/bin/job-pool.sh").content());
        Path script = dir.resolve("stress.sh");
        Files.writeString(script, STRESS);
        List<Process> shells = new ArrayList<>();
        for (int i = 0; i < SHELLS; i++) {
            shells.add(new ProcessBuilder("bash", script.toString(), pool.toString()).redirectErrorStream(true).start());
        }
        for (Process p : shells) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "a shell did not finish");
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("all " + ROUNDS + " rounds"), out);
        }
    }
}
