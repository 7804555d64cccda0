package dev.kindbuild.image.registry;

import dev.kindbuild.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Which TLS certificates kind-build's registry client accepts: the JVM's trust store, plus the CAs of
 * {@code --ca-cert FILE} (PEM, one or more certificates) for a registry signed by a private CA. Certificates are always
 * verified, host name included: a registry whose certificate does not verify is refused, never reached over
 * unverified TLS (a trusted private CA is what {@code --ca-cert} is for).
 */
public final class RegistryTrust {
    private final SSLContext context;
    private final Path caCert;

    private RegistryTrust(SSLContext context, Path caCert) {
        this.context = context;
        this.caCert = caCert;
    }

    /** The JVM's trust store only. */
    public static RegistryTrust jvmDefault() {
        try {
            return new RegistryTrust(SSLContext.getDefault(), null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JVM has no default TLS context", e);
        }
    }

    /** The JVM's trust store plus the CA certificates in {@code pemFile}; null means {@link #jvmDefault()}. */
    public static RegistryTrust withCaCert(Path pemFile) {
        if (pemFile == null) {
            return jvmDefault();
        }
        List<X509Certificate> cas = readPem(pemFile);
        try {
            X509TrustManager jvm = trustManager(null);
            KeyStore extra = KeyStore.getInstance(KeyStore.getDefaultType());
            extra.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                extra.setCertificateEntry("ca-cert-" + i, cas.get(i));
            }
            X509TrustManager own = trustManager(extra);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new EitherTrustManager(jvm, own)}, null);
            return new RegistryTrust(context, pemFile);
        } catch (GeneralSecurityException | IOException e) {
            throw new UserError("--ca-cert " + pemFile + ": cannot use it as a trust anchor: " + e.getMessage(), e);
        }
    }

    public SSLContext context() {
        return context;
    }

    /** How to say what was trusted in an error: "the JVM's trust store" or "… and --ca-cert FILE". */
    public String describe() {
        return caCert == null ? "the JVM's trust store (give a private CA with --ca-cert FILE)"
                : "the JVM's trust store and --ca-cert " + caCert;
    }

    private static List<X509Certificate> readPem(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends java.security.cert.Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            List<X509Certificate> out = new ArrayList<>();
            for (java.security.cert.Certificate c : certs) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new UserError("--ca-cert " + file + ": no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)");
            }
            return out;
        } catch (IOException e) {
            throw new UserError("--ca-cert " + file + ": cannot read it: " + e.getMessage(), e);
        } catch (CertificateException e) {
            throw new UserError("--ca-cert " + file + ": not a PEM certificate: " + e.getMessage(), e);
        }
    }

    private static X509TrustManager trustManager(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        for (TrustManager tm : f.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new IllegalStateException("no X.509 trust manager");
    }

    /** Trusts a server chain either the JVM's store or the extra CAs accept; the JDK then checks the host name. */
    private record EitherTrustManager(X509TrustManager first, X509TrustManager second) implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("kind-build does not accept client connections");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                first.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                second.checkServerTrusted(chain, authType);
            }
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            List<X509Certificate> all = new ArrayList<>(List.of(first.getAcceptedIssuers()));
            all.addAll(List.of(second.getAcceptedIssuers()));
            return all.toArray(new X509Certificate[0]);
        }
    }
}
