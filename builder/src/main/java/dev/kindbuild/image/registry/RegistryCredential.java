package dev.kindbuild.image.registry;

import java.util.Objects;

/**
 * A user name and secret for one registry, as the Docker config or a credential helper gives them. {@link #toString}
 * never shows the secret, so a credential that ends up in a message or log line leaks nothing.
 *
 * @param username the user, or {@code <token>} when {@code secret} is an identity (refresh) token
 * @param secret   the password or identity token
 */
public record RegistryCredential(String username, String secret) {
    /** The user name Docker stores for an identity token (an OAuth2 refresh token, not a password). */
    public static final String IDENTITY_TOKEN_USER = "<token>";

    public RegistryCredential {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(secret, "secret");
    }

    public boolean isIdentityToken() {
        return IDENTITY_TOKEN_USER.equals(username);
    }

    @Override
    public String toString() {
        return "RegistryCredential[" + username + ", ***]";
    }
}
