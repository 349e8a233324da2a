package dev.anneal.platform.ingest;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Runner tokens scoped to one attempt: {@code anr_<attempt id>.<HMAC-SHA256>}. Nothing is stored;
 * the platform's secret verifies them, and a token opens the ingestion endpoint for its attempt
 * only.
 */
public final class AttemptTokens {
  private static final String PREFIX = "anr_";
  private final byte[] secret;

  public AttemptTokens(String secret) {
    if (secret == null || secret.length() < 16) {
      throw new IllegalArgumentException("anneal.ingest.secret must be at least 16 characters");
    }
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
  }

  public String issue(UUID attemptId) {
    return PREFIX + attemptId + "." + mac(attemptId.toString());
  }

  /** The attempt a token was issued for, if the token is genuine. */
  public Optional<UUID> verify(String token) {
    if (token == null || !token.startsWith(PREFIX)) return Optional.empty();
    int dot = token.indexOf('.');
    if (dot < 0) return Optional.empty();
    String id = token.substring(PREFIX.length(), dot);
    byte[] expected = mac(id).getBytes(StandardCharsets.US_ASCII);
    byte[] given = token.substring(dot + 1).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, given)) return Optional.empty();
    try {
      return Optional.of(UUID.fromString(id));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private String mac(String value) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
  }
}
