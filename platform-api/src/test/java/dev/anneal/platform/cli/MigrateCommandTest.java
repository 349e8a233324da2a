package dev.anneal.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code anneal migrate} on a real PostgreSQL: the schema on first run, nothing on the second. */
class MigrateCommandTest {

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine c = AnnealCli.commandLine();
    c.setOut(new PrintWriter(out, true));
    c.setErr(new PrintWriter(err, true));
    return new String[] {Integer.toString(c.execute(args)), out.toString(), err.toString()};
  }

  @Test
  void migratesOnceAndThenChangesNothing() throws Exception {
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
      String url = pg.getJdbcUrl("postgres", "postgres");
      String[] first = run("migrate", "--url", url, "--user", "postgres", "--password", "");
      assertThat(first[0]).as(first[2]).isEqualTo("0");
      assertThat(first[1]).contains("migrations applied now").doesNotContain("(0 migrations");
      String[] again = run("migrate", "--url", url, "--user", "postgres", "--password", "");
      assertThat(again[0]).isEqualTo("0");
      assertThat(again[1]).contains("(0 migrations applied now)");
    }
  }

  @Test
  void withoutADatabaseItSaysWhatIsMissing() {
    String[] r = run("migrate", "--url", "");
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("SPRING_DATASOURCE_URL");
  }
}
