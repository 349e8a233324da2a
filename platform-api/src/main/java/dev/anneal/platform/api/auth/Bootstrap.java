package dev.anneal.platform.api.auth;

import dev.anneal.platform.api.teams.Teams;
import dev.anneal.platform.api.web.ApiProperties;
import dev.anneal.platform.embedded.EmbeddedProperties;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * On first start, makes the operator team ({@code anneal.api.bootstrap-team}, "default") and an
 * admin token for it, printed once on standard output. An operator may choose the token instead
 * ({@code anneal.api.bootstrap-token}, e.g. from a Kubernetes Secret). In embedded mode the token
 * is also written to {@code <data-dir>/bootstrap-token} (mode 600), where {@code anneal login}
 * finds it on the same machine.
 */
@Component
public class Bootstrap {
  private static final Logger log = LoggerFactory.getLogger(Bootstrap.class);
  public static final String TOKEN_FILE = "bootstrap-token";

  private final JdbcTemplate jdbc;
  private final Teams teams;
  private final ApiTokens tokens;
  private final ApiProperties props;
  private final EmbeddedProperties embedded;
  private final org.springframework.transaction.support.TransactionTemplate tx;

  public Bootstrap(
      JdbcTemplate jdbc,
      Teams teams,
      ApiTokens tokens,
      ApiProperties props,
      EmbeddedProperties embedded,
      org.springframework.transaction.support.TransactionTemplate tx) {
    this.tx = tx;
    this.jdbc = jdbc;
    this.teams = teams;
    this.tokens = tokens;
    this.props = props;
    this.embedded = embedded;
  }

  @EventListener(ApplicationReadyEvent.class)
  public void onReady(ApplicationReadyEvent ready) {
    ensureOperator();
    consoleLink(ready.getApplicationContext().getEnvironment().getProperty("local.server.port"), "")
        .ifPresent(link -> System.out.println("anneal: console: " + link));
  }

  /**
   * In embedded mode, a console page's address with the bootstrap token in its fragment (which the
   * browser keeps to itself): one click opens the console logged in.
   */
  public java.util.Optional<String> consoleLink(String port, String page) {
    if (!embedded.enabled() || port == null) return java.util.Optional.empty();
    Path file = embedded.dataDir().resolve(TOKEN_FILE);
    try {
      if (!Files.isRegularFile(file)) return java.util.Optional.empty();
      String token = Files.readString(file).trim();
      return ApiTokens.wellFormed(token)
          ? java.util.Optional.of("http://localhost:" + port + "/#/" + page + "?token=" + token)
          : java.util.Optional.empty();
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  public void ensureOperator() {
    // every replica (API and worker) runs this at start: one at a time, so one token is made
    tx.executeWithoutResult(
        status -> {
          jdbc.queryForObject("SELECT pg_advisory_xact_lock(7466803170211)", Object.class);
          ensureOperatorLocked();
        });
  }

  private void ensureOperatorLocked() {
    String given = props.bootstrapToken();
    if (given != null && !given.isBlank()) {
      if (!ApiTokens.wellFormed(given)) {
        throw new IllegalStateException(
            "anneal.api.bootstrap-token is not an Anneal token (anl_ + 38 base62 characters with"
                + " a valid check); make one with `anneal token`");
      }
      Integer known =
          jdbc.queryForObject(
              "SELECT count(*) FROM api_tokens WHERE token_hash = ?",
              Integer.class,
              ApiTokens.hash(given));
      if (known == 0) {
        UUID team = operatorTeam();
        tokens.create(team, "bootstrap", EnumSet.of(Scope.ADMIN), null, given);
        log.info("bootstrap admin token from anneal.api.bootstrap-token registered");
      }
      return;
    }
    Integer operators =
        jdbc.queryForObject("SELECT count(*) FROM teams WHERE operator", Integer.class);
    if (operators > 0) return;
    UUID team = operatorTeam();
    ApiTokens.NewToken t = tokens.create(team, "bootstrap", EnumSet.of(Scope.ADMIN), null, null);
    String where = "";
    if (embedded.enabled()) {
      Path file = embedded.dataDir().resolve(TOKEN_FILE);
      try {
        Files.writeString(file, t.token() + "\n");
        try {
          Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system
        }
        where = " (also in " + file.toAbsolutePath() + ", readable by you only)";
      } catch (IOException e) {
        log.warn("cannot write {}: {}", file, e.getMessage());
      }
    }
    System.out.println(
        "anneal: bootstrap admin token of operator team '"
            + props.bootstrapTeam()
            + "', shown once"
            + where
            + ":\n  "
            + t.token());
  }

  private UUID operatorTeam() {
    UUID id =
        teams
            .byName(props.bootstrapTeam())
            .map(Teams.Team::id)
            .orElseGet(
                () -> teams.create(props.bootstrapTeam(), "operators", null, null, true).id());
    jdbc.update("UPDATE teams SET operator = true WHERE id = ?", id);
    return id;
  }
}
