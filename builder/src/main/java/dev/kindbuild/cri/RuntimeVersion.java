package dev.kindbuild.cri;

/**
 * What a runtime answers to the CRI Version RPC.
 *
 * @param name       runtime name, e.g. containerd
 * @param version    runtime version, e.g. 1.6.20~ds1
 * @param apiVersion the CRI API version it serves, e.g. v1
 */
public record RuntimeVersion(String name, String version, String apiVersion) {
    @Override
    public String toString() {
        return name + " " + version + " (CRI " + apiVersion + ")";
    }
}
