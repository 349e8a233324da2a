package dev.anneal.platform.api.pipelines;

import dev.anneal.platform.api.ApiException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.UUID;

/**
 * A page token for newest-first lists: the (created_at, id) of the last item handed out, opaque to
 * clients (base64url). Items created after the first page was read do not shift later pages.
 */
public record Cursor(Instant createdAt, UUID id) {

  public String encode() {
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, createdAt);
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((micros + ":" + id).getBytes(StandardCharsets.US_ASCII));
  }

  public static Cursor decode(String token) {
    try {
      String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.US_ASCII);
      int colon = s.indexOf(':');
      long micros = Long.parseLong(s.substring(0, colon));
      return new Cursor(
          Instant.EPOCH.plus(micros, ChronoUnit.MICROS), UUID.fromString(s.substring(colon + 1)));
    } catch (RuntimeException e) {
      throw ApiException.badRequest(
          "pageToken: not a page token this API handed out: '" + token + "'", "pageToken");
    }
  }
}
