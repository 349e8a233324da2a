package dev.anneal.platform.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.anneal.platform.cli.AnnealCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The short chaos run: {@code ./anneal bench chaos} at a storm's pace, every fault kind once and no
 * more — the runner and the platform killed, the workers restarted, S3 cut off, PostgreSQL
 * restarted, the newest checkpoint corrupted, a spike and a NaN — on a stage that must still end
 * SUCCEEDED with every step's metrics stored once per attempt, every kept checkpoint verifying and
 * never two runners alive. No timing is asserted: the ratio is the benchmark's to report.
 */
class ChaosIT {

  private static final Path RUNNER = Path.of("../gpu-runner/engine/target/anneal-runner.jar");

  @TempDir Path dir;

  @Test
  void aStageSurvivesEveryFaultKindAndItsRecordsStayWhole() {
    assumeTrue(Files.isRegularFile(RUNNER), "run the whole build: the engine module makes it");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = AnnealCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code =
        cli.execute(
            "bench-chaos",
            "--data-dir",
            dir.toString(),
            "--runner-jar",
            RUNNER.toAbsolutePath().toString(),
            "--minutes",
            "2.5",
            "--interval",
            "15",
            "--faults",
            "8",
            "--s3-outage",
            "10",
            "--seed",
            "7");
    String report = out + "\n" + err;
    assertThat(code).as(report).isZero();
    assertThat(report)
        .contains("pipeline SUCCEEDED")
        .contains("every step stored once per attempt, no gaps, every surviving step stored: yes")
        .contains("all verify")
        .contains("two runner JVMs alive at once: never")
        .contains("final checkpoint verifies: yes")
        .contains("PASSED");
    for (FaultKind k : FaultKind.values()) {
      assertThat(report)
          .as(report)
          .containsPattern("(?m)^  " + java.util.regex.Pattern.quote(k.label) + " +[1-9]");
    }
    // a restarted runner resumed from the checkpoint before the corrupted one
    assertThat(report).containsPattern("[1-9]\\d* refused by a runner's verification");
  }

  @Test
  void theScheduleStrikesEveryKindFirstInASeededOrder() {
    var a = ChaosCommand.schedule(new Random(3));
    var b = ChaosCommand.schedule(new Random(3));
    assertThat(a).isEqualTo(b);
    assertThat(a.subList(0, FaultKind.values().length))
        .containsExactlyInAnyOrder(FaultKind.values());
    assertThat(ChaosCommand.schedule(new Random(4))).isNotEqualTo(a);
  }
}
