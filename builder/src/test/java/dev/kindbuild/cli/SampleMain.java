package dev.kindbuild.cli;

import java.util.List;

/**
 * `scripts/sample`: kind-build's CLI with the test fixtures' {@code sample} command (a generated Kubernetes release
 * and sample images, for the quick demo, the benchmarks and offline tests). It lives with the tests, not in the
 * product jar.
 */
public final class SampleMain {
    private SampleMain() {}

    public static void main(String[] args) {
        String[] all = new String[args.length + 1];
        all[0] = "sample";
        System.arraycopy(args, 0, all, 1, args.length);
        Main.main(List.of(new SampleCommand()), all);
    }
}
