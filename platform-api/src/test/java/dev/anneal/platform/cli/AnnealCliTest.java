package dev.anneal.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class AnnealCliTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = AnnealCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void versionNamesAnnealAndTheJavaRuntime() {
    assertThat(run("version")).isZero();
    assertThat(out.toString())
        .startsWith("anneal ")
        .contains("Java " + System.getProperty("java.version"));
  }

  @Test
  void helpListsTheSubcommands() {
    assertThat(run("help")).isZero();
    assertThat(out.toString()).contains("serve").contains("version").contains("help");
  }

  @Test
  void serveHelpDocumentsItsOptions() {
    assertThat(run("help", "serve")).isZero();
    assertThat(out.toString())
        .contains("--port")
        .contains("--data-dir")
        .contains("--pg-port")
        .contains("--temporal-port")
        .contains("--s3-port")
        .contains("--no-embedded");
  }

  @Test
  void anUnknownCommandIsAUsageError() {
    assertThat(run("launch-rockets")).isEqualTo(2);
    assertThat(err.toString()).contains("Unmatched argument").contains("launch-rockets");
  }
}
