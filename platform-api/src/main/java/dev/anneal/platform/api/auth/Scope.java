package dev.anneal.platform.api.auth;

import java.util.Locale;

/**
 * What a token may do. Scopes nest: {@code admin} includes {@code submit}, which includes {@code
 * read}.
 */
public enum Scope {
  READ,
  SUBMIT,
  ADMIN;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Scope fromId(String id) {
    for (Scope s : values()) {
      if (s.id().equals(id)) return s;
    }
    throw new IllegalArgumentException("scope must be read, submit or admin, got '" + id + "'");
  }
}
