package dev.anneal.platform.cli;

import java.util.concurrent.Callable;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code anneal migrate}: brings an existing PostgreSQL to this build's schema (Flyway) and exits.
 * Idempotent — with nothing to apply it changes nothing — so a Helm pre-upgrade hook, which Argo CD
 * runs on every sync, may run it any number of times.
 */
@Command(
    name = "migrate",
    description = {
      "Migrate PostgreSQL to this build's schema and exit (the Helm chart's pre-install and",
      "pre-upgrade Job). The connection comes from the options or SPRING_DATASOURCE_URL,",
      "SPRING_DATASOURCE_USERNAME and SPRING_DATASOURCE_PASSWORD."
    })
class MigrateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--url", description = "JDBC URL (default: SPRING_DATASOURCE_URL)")
  String url = System.getenv("SPRING_DATASOURCE_URL");

  @Option(names = "--user", description = "user (default: SPRING_DATASOURCE_USERNAME)")
  String user = System.getenv("SPRING_DATASOURCE_USERNAME");

  @Option(names = "--password", description = "password (default: SPRING_DATASOURCE_PASSWORD)")
  String password = System.getenv("SPRING_DATASOURCE_PASSWORD");

  @Override
  public Integer call() {
    if (url == null || url.isBlank()) {
      spec.commandLine()
          .getErr()
          .println("anneal: migrate: no database: give --url or set SPRING_DATASOURCE_URL");
      return 2;
    }
    try {
      MigrateResult r =
          Flyway.configure()
              .dataSource(url, user, password)
              .locations("classpath:db/migration")
              .connectRetries(10)
              .load()
              .migrate();
      spec.commandLine()
          .getOut()
          .printf(
              "anneal: %s is at schema version %s (%d migration%s applied now)%n",
              url.replaceAll("password=[^&]*", "password=…"),
              r.targetSchemaVersion != null ? r.targetSchemaVersion : r.initialSchemaVersion,
              r.migrationsExecuted,
              r.migrationsExecuted == 1 ? "" : "s");
      return 0;
    } catch (RuntimeException e) {
      spec.commandLine().getErr().println("anneal: migrate: " + e.getMessage());
      return 1;
    }
  }
}
