package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.support.EnvProxySelector;
import dev.kindbuild.support.Urls;
import dev.kindbuild.lifecycle.Interruption;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: `kind-build <command>`. Errors the user can fix become one line on stderr and a non-zero exit. */
@Command(name = "kind-build",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "Builds the base and node images that kind boots as Kubernetes nodes.",
        subcommands = {
                BaseImageCommand.class,
                NodeImageCommand.class,
                AddImageCommand.class,
                ReleaseCommand.class,
                SelfImageCommand.class,
                VerifyCommand.class,
                VersionCommand.class,
                CleanupCommand.class,
                AutoComplete.GenerateCompletion.class,
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        main(java.util.List.of(), args);
    }

    /**
     * The CLI with {@code extraCommands} added (the test fixtures' {@code sample} command runs this way, outside the
     * product jar), then exits with its code.
     */
    public static void main(java.util.List<Object> extraCommands, String[] args) {
        useTmpdirFromEnvironment();
        Interruption.install(Thread.currentThread(), System.err);
        int code;
        try {
            code = execute(extraCommands, args);
        } finally {
            Interruption.finished();
        }
        if (Interruption.requested()) {
            // The interruption hook has cleaned up and ends the process with 130; System.exit would only wait for it.
            return;
        }
        System.exit(code);
    }

    /**
     * Temp dirs go where TMPDIR says, as for other tools (the JVM itself only reads java.io.tmpdir); an explicit
     * -Djava.io.tmpdir wins.
     */
    static void useTmpdirFromEnvironment() {
        String tmpdir = System.getenv("TMPDIR");
        if (tmpdir != null && !tmpdir.isBlank()
                && "/tmp".equals(System.getProperty("java.io.tmpdir").replaceFirst("/$", ""))) {
            System.setProperty("java.io.tmpdir", tmpdir);
            // kind-build's own image points TMPDIR into its cache volume, which starts empty.
            try {
                java.nio.file.Files.createDirectories(java.nio.file.Path.of(tmpdir));
            } catch (java.io.IOException | RuntimeException e) {
                // the first temp file names the directory and the reason
            }
        }
    }

    /** Runs the CLI and returns the exit code (tests call this instead of main). */
    public static int execute(String... args) {
        return execute(java.util.List.of(), args);
    }

    static int execute(java.util.List<Object> extraCommands, String... args) {
        EnvProxySelector.installAsDefault();
        CommandLine cli = new CommandLine(new Main());
        extraCommands.forEach(cli::addSubcommand);
        cli.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(true);
        cli.setParameterExceptionHandler((ex, a) -> fail(ex.getCommandLine(), args,
                ex.getMessage() + " (see `" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help`)", 2));
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (Interruption.requested()) {
                return 130; // one line, printed by the interruption hook
            }
            UserError user = findUserError(ex);
            if (user != null) {
                return fail(commandLine, args, user.getMessage(), user.exitCode());
            }
            int code = fail(commandLine, args, ex.getClass().getSimpleName() + ": " + ex.getMessage()
                    + " (this is a kind-build bug; rerun with -v for the stack trace)", 70);
            if (Verbosity.isVerbose()) {
                ex.printStackTrace(commandLine.getErr());
            }
            return code;
        });
        return cli.execute(args);
    }

    /**
     * Reports a failure: one ERROR line on stderr and, when the command was asked for --json, the same as a JSON
     * object on stdout (a script reads stdout either way). Credentials in URLs are removed from the message as a last
     * guard; references with credentials are refused without echoing them long before this.
     */
    private static int fail(CommandLine commandLine, String[] args, String message, int exitCode) {
        String line = Urls.redact(message);
        commandLine.getErr().println("ERROR: " + line);
        commandLine.getErr().flush();
        if (wantsJson(commandLine, args)) {
            OutputOptions.printJsonError(line, exitCode);
        }
        return exitCode;
    }

    /** Whether --json was given to a command that takes it (options end at "--"). */
    private static boolean wantsJson(CommandLine commandLine, String[] args) {
        if (commandLine.getCommandSpec().findOption("--json") == null) {
            return false;
        }
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals("--json")) {
                return true;
            }
        }
        return false;
    }

    private static UserError findUserError(Throwable t) {
        for (Throwable cur = t; cur != null; cur = cur.getCause()) {
            if (cur instanceof UserError u) {
                return u;
            }
            if (cur.getCause() == cur) {
                break;
            }
        }
        return null;
    }
}
