package dev.kindbuild.verify;

/** One verified property of a node image: what was checked, whether it holds, and what was seen. */
public record Check(String name, boolean ok, String detail) {
    static Check pass(String name, String detail) {
        return new Check(name, true, detail);
    }

    static Check fail(String name, String detail) {
        return new Check(name, false, detail);
    }
}
