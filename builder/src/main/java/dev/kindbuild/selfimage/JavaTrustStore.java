package dev.kindbuild.selfimage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Map;
import java.util.SortedMap;

/**
 * The JRE's trust store ({@code /etc/ssl/certs/java/cacerts}), made from the CA certificates Debian's ca-certificates
 * package ships — what that package's maintainer script would make, had it run. A PKCS12 store with neither a MAC nor
 * encrypted certificates: readable with no password (as the JRE reads its default trust store) and the same bytes for
 * the same certificates, so the image stays reproducible.
 */
final class JavaTrustStore {
    static final String PATH = "etc/ssl/certs/java/cacerts";
    private static final String[] NO_PROTECTION = {"keystore.pkcs12.certProtectionAlgorithm", "keystore.pkcs12.macAlgorithm"};

    private JavaTrustStore() {}

    /** A store of {@code pemByName}'s certificates (PEM, one per file), each under its name, in the map's order. */
    static byte[] of(SortedMap<String, byte[]> pemByName) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            CertificateFactory x509 = CertificateFactory.getInstance("X.509");
            for (Map.Entry<String, byte[]> pem : pemByName.entrySet()) {
                Certificate cert;
                try {
                    cert = x509.generateCertificate(new ByteArrayInputStream(pem.getValue()));
                } catch (CertificateException e) {
                    throw new IllegalArgumentException(pem.getKey() + " is no PEM certificate: " + e.getMessage(), e);
                }
                store.setCertificateEntry(pem.getKey(), cert);
            }
            return storeUnprotected(store);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot write a PKCS12 trust store: " + e.getMessage(), e);
        }
    }

    /*
     * The JDK takes these two settings from system properties (over java.security) when it writes the store: set for
     * the write only, then put back.
     */
    private static synchronized byte[] storeUnprotected(KeyStore store) throws GeneralSecurityException, IOException {
        String[] before = new String[NO_PROTECTION.length];
        for (int i = 0; i < NO_PROTECTION.length; i++) {
            before[i] = System.setProperty(NO_PROTECTION[i], "NONE");
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            store.store(out, new char[0]);
            return out.toByteArray();
        } finally {
            for (int i = 0; i < NO_PROTECTION.length; i++) {
                if (before[i] == null) {
                    System.clearProperty(NO_PROTECTION[i]);
                } else {
                    System.setProperty(NO_PROTECTION[i], before[i]);
                }
            }
        }
    }
}
