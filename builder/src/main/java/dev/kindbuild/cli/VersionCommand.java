package dev.kindbuild.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** `kind-build version`: the tool version and the Java runtime it runs on. */
@Command(name = "version", description = "Print the kind-build version.")
final class VersionCommand implements Runnable {

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-dev" : v;
    }

    @Override
    public void run() {
        System.out.println("kind-build " + version() + " (java " + System.getProperty("java.version") + ")");
    }

    /** Feeds `kind-build --version`. */
    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"kind-build " + version()};
        }
    }
}
