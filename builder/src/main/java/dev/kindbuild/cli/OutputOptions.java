package dev.kindbuild.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.kindbuild.progress.ConsoleProgress;
import dev.kindbuild.progress.Progress;
import java.util.Map;
import picocli.CommandLine.Option;

/** -v and --json, shared by every command that does long work. Progress goes to stderr; results to stdout. */
final class OutputOptions {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Option(names = {"-v", "--verbose"}, description = "Show detail: engine output, commands run, stack traces.")
    boolean verbose;

    @Option(names = "--json", description = "Print the result as JSON on stdout (progress stays on stderr).")
    boolean json;

    Progress progress() {
        Verbosity.set(verbose);
        return ConsoleProgress.onStderr(verbose);
    }

    /** Writes {@code result} as JSON to {@code file} through a temp file renamed into place. */
    static void writeJson(java.nio.file.Path file, Map<String, Object> result) {
        java.nio.file.Path abs = file.toAbsolutePath();
        java.nio.file.Path tmp = abs.resolveSibling("." + abs.getFileName() + ".partial-" + ProcessHandle.current().pid());
        try {
            java.nio.file.Files.write(tmp, JSON.writeValueAsBytes(result));
            java.nio.file.Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            try {
                java.nio.file.Files.deleteIfExists(tmp);
            } catch (java.io.IOException ignored) {
                // the write failed first; that is the error to report
            }
            throw new dev.kindbuild.UserError("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * A failure as --json reports it on stdout: {@code {"status":"error","error":"<the ERROR line>","exitCode":N}}, so
     * a script that reads stdout learns why, not only that, a command failed.
     */
    static void printJsonError(String message, int exitCode) {
        Map<String, Object> error = new java.util.LinkedHashMap<>();
        error.put("status", "error");
        error.put("error", message);
        error.put("exitCode", exitCode);
        try {
            System.out.println(JSON.writeValueAsString(error));
            System.out.flush();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Prints the result: JSON when asked, else the human lines. */
    void print(Map<String, Object> result, String humanSummary) {
        if (json) {
            try {
                System.out.println(JSON.writeValueAsString(result));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        } else {
            System.out.println(humanSummary);
        }
    }

    /** A document the command produces (a plan, a manifest), printed as it is. */
    void printText(String text) {
        System.out.print(text);
        System.out.flush();
    }
}
