package dev.anneal.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.ExitCode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunnerMainTest {

  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return RunnerMain.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static final String SPEC =
      """
      {"team":"research","pipeline":"p1","stage":"pretrain","attempt":2,
       "training":{"steps":100,"lr":0.001},
       "datasets":[{"name":"stories","key":"teams/research/datasets/stories/v1/data.jsonl"}],
       "stability":{"lrFactor":0.5,"skipWindows":[{"fromBatch":40,"toBatch":90}]},
       "store":{"endpoint":"http://127.0.0.1:9000","bucket":"anneal"}}
      """;

  @Test
  void checkSpecSummarisesAValidSpec() throws Exception {
    Path f = Files.writeString(dir.resolve("spec.json"), SPEC);
    assertThat(run("check-spec", f.toString())).isEqualTo(ExitCode.SUCCESS.code());
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("research/p1 stage pretrain attempt 2 on cpu")
        .contains("betas (0.9, 0.95), eps 1.0E-8, weight decay 0.1, clip 1.0")
        .contains("skip batches: 40-89")
        .contains("learning rate x0.500 after rollback");
  }

  @Test
  void checkSpecNamesTheBadField() throws Exception {
    Path f = Files.writeString(dir.resolve("spec.json"), SPEC.replace("\"lr\":0.001", "\"lr\":0"));
    assertThat(run("check-spec", f.toString())).isEqualTo(ExitCode.INVALID_SPEC.code());
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("training.lr: must be > 0");
  }

  @Test
  void missingSpecFileIsAMissingInput() {
    assertThat(run("check-spec", dir.resolve("nope.json").toString()))
        .isEqualTo(ExitCode.INPUT_MISSING.code());
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("does not exist");
  }

  @Test
  void unknownCommandIsRefusedWithUsage() {
    assertThat(run("train-everything")).isEqualTo(ExitCode.INVALID_SPEC.code());
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown command").contains("usage:");
  }

  @Test
  void doctorRunsARealMatmulThroughPyTorch() {
    assertThat(run("doctor")).isEqualTo(ExitCode.SUCCESS.code());
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("engine PyTorch 2.7.1")
        .contains(": OK");
  }
}
