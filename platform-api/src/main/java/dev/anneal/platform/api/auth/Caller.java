package dev.anneal.platform.api.auth;

import java.util.Set;
import java.util.UUID;

/** Who is calling: the token, its team, and what it may do. */
public record Caller(
    UUID tokenId,
    String tokenPrefix,
    UUID teamId,
    String team,
    boolean operator,
    Set<Scope> scopes) {

  public Caller {
    scopes = Set.copyOf(scopes);
  }

  /** Scopes nest: admin ⊇ submit ⊇ read. */
  public boolean may(Scope needed) {
    return scopes.stream().anyMatch(s -> s.ordinal() >= needed.ordinal());
  }
}
