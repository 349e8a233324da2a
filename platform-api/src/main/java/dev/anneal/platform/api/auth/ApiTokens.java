package dev.anneal.platform.api.auth;

import dev.anneal.platform.api.ApiException;
import dev.anneal.protocol.Sha256;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Array;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Team API tokens: {@code anl_} + 32 random base62 characters + a 6-character CRC32 check, so a
 * secret scanner can recognise one (prefix) and tell a real one from a typo (check) without asking
 * us. Only the SHA-256 of a token is stored; the token itself is shown once, when it is made.
 */
@Component
public class ApiTokens {
  static final String PREFIX = "anl_";
  private static final String BASE62 =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final Duration LAST_USED_GRANULARITY = Duration.ofMinutes(1);

  private final JdbcTemplate jdbc;
  private final SecureRandom random = new SecureRandom();
  private final Map<UUID, Instant> lastUsedWritten = new ConcurrentHashMap<>();

  public ApiTokens(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  /** A token's listing: never the secret, only its first characters. */
  public record TokenInfo(
      UUID id,
      String name,
      String prefix,
      List<String> scopes,
      OffsetDateTime createdAt,
      OffsetDateTime lastUsedAt,
      OffsetDateTime expiresAt,
      OffsetDateTime revokedAt) {}

  /** A token just made: the only time its secret is returned. */
  public record NewToken(TokenInfo info, String token) {}

  /** A fresh token string (not stored). */
  public String generate() {
    StringBuilder body = new StringBuilder(32);
    for (int i = 0; i < 32; i++) body.append(BASE62.charAt(random.nextInt(62)));
    return PREFIX + body + check(body.toString());
  }

  /** Whether a string has a token's shape and a correct check (no database involved). */
  public static boolean wellFormed(String token) {
    if (token == null || token.length() != PREFIX.length() + 38 || !token.startsWith(PREFIX)) {
      return false;
    }
    String body = token.substring(PREFIX.length(), PREFIX.length() + 32);
    for (char c : token.substring(PREFIX.length()).toCharArray()) {
      if (BASE62.indexOf(c) < 0) return false;
    }
    return check(body).equals(token.substring(PREFIX.length() + 32));
  }

  static String check(String body) {
    CRC32 crc = new CRC32();
    crc.update(body.getBytes(StandardCharsets.US_ASCII));
    long v = crc.getValue();
    char[] out = new char[6];
    for (int i = 5; i >= 0; i--) {
      out[i] = BASE62.charAt((int) (v % 62));
      v /= 62;
    }
    return new String(out);
  }

  public static String hash(String token) {
    return Sha256.hex(token.getBytes(StandardCharsets.US_ASCII));
  }

  /** What people see of a token in lists: {@code anl_} and its first 8 characters. */
  public static String displayPrefix(String token) {
    return token.substring(0, PREFIX.length() + 8);
  }

  /** Makes a token for a team; {@code given} is used as the secret when not null (bootstrap). */
  public NewToken create(
      UUID teamId, String name, Set<Scope> scopes, Instant expiresAt, String given) {
    if (name == null || name.isBlank() || name.length() > 100) {
      throw ApiException.badRequest("name: a token needs a name of 1 to 100 characters", "name");
    }
    if (scopes == null || scopes.isEmpty()) {
      throw ApiException.badRequest("scopes: give at least one of read, submit, admin", "scopes");
    }
    if (expiresAt != null && !expiresAt.isAfter(Instant.now())) {
      throw ApiException.badRequest("expiresAt: must be in the future", "expiresAt");
    }
    String token = given != null ? given : generate();
    if (!wellFormed(token)) {
      throw new IllegalArgumentException(
          "a given token must look like one Anneal makes (anl_ + 38 base62 characters with a"
              + " valid check); make one with `anneal token`");
    }
    UUID id = UUID.randomUUID();
    String[] scopeIds = scopes.stream().sorted().map(Scope::id).toArray(String[]::new);
    jdbc.update(
        c -> {
          var ps =
              c.prepareStatement(
                  "INSERT INTO api_tokens (id, team_id, name, prefix, token_hash, scopes, expires_at)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?)");
          ps.setObject(1, id);
          ps.setObject(2, teamId);
          ps.setString(3, name);
          ps.setString(4, displayPrefix(token));
          ps.setString(5, hash(token));
          ps.setArray(6, c.createArrayOf("text", scopeIds));
          ps.setTimestamp(7, expiresAt == null ? null : Timestamp.from(expiresAt));
          return ps;
        });
    return new NewToken(get(teamId, id).orElseThrow(), token);
  }

  public List<TokenInfo> list(UUID teamId) {
    return jdbc.query(
        "SELECT id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at"
            + " FROM api_tokens WHERE team_id = ? ORDER BY created_at, id",
        (rs, i) -> info(rs),
        teamId);
  }

  public Optional<TokenInfo> get(UUID teamId, UUID id) {
    return jdbc
        .query(
            "SELECT id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at"
                + " FROM api_tokens WHERE team_id = ? AND id = ?",
            (rs, i) -> info(rs),
            teamId,
            id)
        .stream()
        .findFirst();
  }

  /** Revokes a token of the team; false if the team has no such token. */
  public boolean revoke(UUID teamId, UUID id) {
    return jdbc.update(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now())"
                + " WHERE team_id = ? AND id = ?",
            teamId,
            id)
        > 0;
  }

  private static TokenInfo info(java.sql.ResultSet rs) throws java.sql.SQLException {
    Array scopes = rs.getArray(4);
    return new TokenInfo(
        rs.getObject(1, UUID.class),
        rs.getString(2),
        rs.getString(3),
        List.of((String[]) scopes.getArray()),
        rs.getObject(5, OffsetDateTime.class),
        rs.getObject(6, OffsetDateTime.class),
        rs.getObject(7, OffsetDateTime.class),
        rs.getObject(8, OffsetDateTime.class));
  }

  /**
   * The caller a bearer token belongs to. Every way a token can fail answers the same 401, so the
   * answer tells an attacker nothing about which tokens exist.
   */
  public Caller authenticate(String token) {
    if (!wellFormed(token)) throw unauthorized();
    List<Caller> found =
        jdbc.query(
            """
            SELECT k.id, k.prefix, t.id, t.name, t.operator, k.scopes FROM api_tokens k
            JOIN teams t ON t.id = k.team_id
            WHERE k.token_hash = ? AND k.revoked_at IS NULL
              AND (k.expires_at IS NULL OR k.expires_at > now())""",
            (rs, i) -> {
              Set<Scope> scopes = EnumSet.noneOf(Scope.class);
              for (String s : (String[]) rs.getArray(6).getArray()) scopes.add(Scope.fromId(s));
              return new Caller(
                  rs.getObject(1, UUID.class),
                  rs.getString(2),
                  rs.getObject(3, UUID.class),
                  rs.getString(4),
                  rs.getBoolean(5),
                  scopes);
            },
            hash(token));
    if (found.isEmpty()) throw unauthorized();
    Caller caller = found.get(0);
    Instant now = Instant.now();
    Instant last = lastUsedWritten.get(caller.tokenId());
    if (last == null || Duration.between(last, now).compareTo(LAST_USED_GRANULARITY) >= 0) {
      lastUsedWritten.put(caller.tokenId(), now);
      jdbc.update("UPDATE api_tokens SET last_used_at = now() WHERE id = ?", caller.tokenId());
    }
    return caller;
  }

  static ApiException unauthorized() {
    return new ApiException(
        HttpStatus.UNAUTHORIZED,
        "unauthenticated",
        "a valid API token is required: send 'Authorization: Bearer anl_…' (make one with"
            + " POST /api/v1/teams/{team}/tokens or take the bootstrap token `anneal serve` printed)");
  }
}
