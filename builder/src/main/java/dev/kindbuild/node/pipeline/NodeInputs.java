package dev.kindbuild.node.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.image.layer.CanonicalJson;
import dev.kindbuild.support.Sha256;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything a node image is made from. Equal inputs give the same image (oci: byte for byte) — so the
 * image's digest is known once they are, and a build whose inputs the store has seen before is already done.
 * Recorded in the image (label {@link #LABEL}) so anyone can tell what went in.
 *
 * @param builder    kind-build's version and the node layout revision (a change in how layers are laid out is a new input)
 * @param arch       the platform's architecture
 * @param kubernetes the Kubernetes version
 * @param release    {@code sha256:…} of the release tarball, or of the binaries and image archives when there is none
 * @param base       the base image's manifest digest
 * @param images     each baked-in image's name → its platform manifest digest
 * @param files      digest of what kind-build adds itself (node-image/files, manifests)
 * @param created    the image time (SOURCE_DATE_EPOCH, else the release's)
 */
public record NodeInputs(String builder, String arch, String kubernetes, String release, String base, Map<String, String> images,
        String files, Instant created) {
    static final String LABEL = "dev.kind-build.inputs";
    private static final ObjectMapper JSON = new ObjectMapper();

    public NodeInputs {
        images = java.util.Collections.unmodifiableMap(new TreeMap<>(images));
    }

    /** The canonical JSON form: the label's value. */
    String json() {
        return new String(CanonicalJson.bytes(tree()), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The same as a JSON tree (for --json and --record). */
    public ObjectNode tree() {
        ObjectNode n = JSON.createObjectNode();
        n.put("builder", builder);
        n.put("arch", arch);
        n.put("kubernetes", kubernetes);
        n.put("release", release);
        n.put("base", base);
        ObjectNode i = n.putObject("images");
        images.forEach(i::put);
        n.put("files", files);
        n.put("created", created.getEpochSecond());
        return n;
    }

    /** The store name the finished image is kept under, found again by the next build of the same inputs. */
    String storeName() {
        return "kind-build.node-inputs/" + Sha256.of(json().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
