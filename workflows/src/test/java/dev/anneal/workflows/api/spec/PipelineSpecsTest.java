package dev.anneal.workflows.api.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.protocol.ProtocolException;
import dev.anneal.protocol.StageKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class PipelineSpecsTest {

  private static final Path EXAMPLES = Path.of("../examples");

  private static String tinyChat() throws Exception {
    return Files.readString(EXAMPLES.resolve("tiny-chat.yaml"));
  }

  @Test
  void everyExampleParses() throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(EXAMPLES)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).isNotEmpty();
    for (Path f : files) {
      PipelineSpec spec = PipelineSpecs.parse(Files.readString(f));
      assertThat(spec.stages()).as(f.toString()).isNotEmpty();
    }
  }

  @Test
  void theDemoPipelineHasAllFourStagesWithDefaultsFilledIn() throws Exception {
    PipelineSpec spec = PipelineSpecs.parse(tinyChat());
    assertThat(spec.stages())
        .extracting(StageSpec::kind)
        .containsExactly(StageKind.PRETRAIN, StageKind.SFT, StageKind.REWARD, StageKind.RLHF);
    StageSpec pretrain = spec.stages().get(0);
    assertThat(pretrain.hyperparameters().beta2()).isEqualTo(0.95);
    assertThat(pretrain.stability().policy().rollbackSteps()).isEqualTo(100);
    assertThat(pretrain.stability().policy().lrFactor()).isEqualTo(0.5);
    assertThat(pretrain.inject().spikeAtStep()).isEqualTo(412);
    assertThat(spec.stages().get(1).gate().onFail()).isEqualTo("approve");
    assertThat(spec.stages().get(3).reward()).isEqualTo("reward");
  }

  @Test
  void yamlAndJsonAreTheSameDocument() throws Exception {
    PipelineSpec yaml = PipelineSpecs.parse(tinyChat());
    String json = dev.anneal.protocol.ProtocolJson.write(yaml);
    assertThat(PipelineSpecs.parse(json)).isEqualTo(yaml);
    assertThat(PipelineSpecs.parse(PipelineSpecs.toYaml(yaml))).isEqualTo(yaml);
  }

  @Test
  void aBadHyperparameterNamesItsPath() throws Exception {
    String bad =
        tinyChat()
            .replace(
                "hyperparameters: {steps: 800, batchSize: 32, seqLen: 64, lr: 0.0003}",
                "hyperparameters: {steps: 800, batchSize: 32, seqLen: 64, lr: -1}");
    assertThatThrownBy(() -> PipelineSpecs.parse(bad))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("stages[2].hyperparameters.lr: must be > 0, got -1.0");
  }

  @Test
  void anUnknownFieldIsAnError() throws Exception {
    String bad =
        tinyChat().replace("    checkpoint: {everySteps: 50", "    checkpointz: {everySteps: 50");
    assertThatThrownBy(() -> PipelineSpecs.parse(bad))
        .hasMessageStartingWith("stages[0].checkpointz: unknown field");
  }

  /** A value of the wrong kind is refused, never coerced: a number is no name, "800" no number. */
  @Test
  void scalarsAreNotCoerced() throws Exception {
    String steps = "hyperparameters: {steps: 800, batchSize: 32, seqLen: 64, lr: 0.0003}";
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    tinyChat().replace(steps, steps.replace("steps: 800", "steps: \"800\""))))
        .isInstanceOf(ProtocolException.class)
        .hasMessageStartingWith("stages[2].hyperparameters.steps:");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    tinyChat().replace(steps, steps.replace("steps: 800", "steps: 800.5"))))
        .hasMessageStartingWith("stages[2].hyperparameters.steps:");
    assertThatThrownBy(
            () -> PipelineSpecs.parse(tinyChat().replace("{dataset: chat}", "{dataset: 5}")))
        .hasMessageStartingWith("stages[1].data[0].dataset:");
    // an integer where a decimal belongs is a decimal; so is YAML's exponent form
    assertThat(
            PipelineSpecs.parse(tinyChat().replace(steps, steps.replace("lr: 0.0003", "lr: 3e-4")))
                .stages()
                .get(2)
                .hyperparameters()
                .lr())
        .isEqualTo(3e-4);
    assertThat(
            PipelineSpecs.parse(tinyChat().replace(steps, steps.replace("lr: 0.0003", "lr: 1")))
                .stages()
                .get(2)
                .hyperparameters()
                .lr())
        .isEqualTo(1.0);
  }

  /**
   * A billion laughs: ten levels of YAML aliases, each ten times the last. The YAML reader does not
   * expand aliases, so the document costs nothing to read, and it is refused as a spec.
   */
  @Test
  void anAliasBombIsRefusedWithoutExpanding() throws Exception {
    StringBuilder y = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
      y.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 10; j++) y.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
      y.append("]\n");
    }
    assertThatThrownBy(() -> PipelineSpecs.parse(y.toString()))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void referencesAreChecked() throws Exception {
    assertThatThrownBy(
            () -> PipelineSpecs.parse(tinyChat().replace("{dataset: chat}", "{dataset: chats}")))
        .hasMessageStartingWith(
            "stages[1].data[0].dataset: 'chats' is not among the pipeline's datasets");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    tinyChat()
                        .replace(
                            "    from: sft\n    reward: reward",
                            "    from: sfx\n    reward: reward")))
        .hasMessageStartingWith("stages[3].from: 'sfx' is not an earlier stage");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    tinyChat().replace("    reward: reward\n", "    reward: sft\n")))
        .hasMessage("stages[3].reward: 'sft' is not an earlier reward stage");
    assertThatThrownBy(() -> PipelineSpecs.parse(tinyChat().replace("    reward: reward\n", "")))
        .hasMessage("stages[3].reward: an rlhf stage names its reward-model stage");
  }

  @Test
  void budgetsAndGatesAreValidated() throws Exception {
    assertThatThrownBy(
            () -> PipelineSpecs.parse(tinyChat().replace("lrFactor: 0.5", "lrFactor: 1.5")))
        .hasMessageContaining("stages[0].stability.lrFactor");
    assertThatThrownBy(
            () -> PipelineSpecs.parse(tinyChat().replace("onFail: approve", "onFail: shrug")))
        .hasMessage("stages[1].gate.onFail: must be 'stop' or 'approve', got 'shrug'");
    assertThatThrownBy(() -> PipelineSpecs.parse(tinyChat().replace("memory: 4Gi", "memory: lots")))
        .hasMessageContaining("stages[3].resources.memory: must be a Kubernetes quantity");
  }

  @Test
  void exportSettingsAndTheLicenseLabelAreValidated() throws Exception {
    String sft = "    gate: {metric: exact_match, min: 0.3, onFail: approve}";
    PipelineSpec ok =
        PipelineSpecs.parse(
            tinyChat()
                .replace("    purpose: demo", "    purpose: demo\n    license: apache-2.0")
                .replace(sft, sft + "\n    export: {dtype: bfloat16, maxShardSize: 2GiB}"));
    assertThat(ok.stages().get(1).export().maxShardBytes()).isEqualTo(2L << 30);
    assertThat(ok.stages().get(0).export().dtype()).isEqualTo("float32");
    assertThatThrownBy(
            () -> PipelineSpecs.parse(tinyChat().replace(sft, sft + "\n    export: {dtype: fp8}")))
        .hasMessage("stages[1].export.dtype: must be 'float32' or 'bfloat16', got 'fp8'");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    tinyChat()
                        .replace(
                            "    purpose: demo", "    purpose: demo\n    license: my license")))
        .hasMessageStartingWith("metadata.labels.license: an SPDX-style id");
  }

  @Test
  void theBuiltInEngineIsAskedForOneGpuAtMost() throws Exception {
    assertThatThrownBy(() -> PipelineSpecs.parse(tinyChat().replace("gpus: 0", "gpus: 8")))
        .hasMessageStartingWith(
            "stages[3].resources.gpus: the built-in engine trains on one device, so a stage asks"
                + " for at most 1 GPU, got 8");
    PipelineSpec one = PipelineSpecs.parse(tinyChat().replace("gpus: 0", "gpus: 1"));
    assertThat(one.stages().get(3).resources().device()).isEqualTo("cuda");
    assertThat(one.stages().get(0).resources().device()).isEqualTo("cpu");
  }

  private static String ddp() throws Exception {
    return Files.readString(EXAMPLES.resolve("ddp-pretrain.yaml"));
  }

  @Test
  void aStageNamesItsEngine() throws Exception {
    PipelineSpec spec = PipelineSpecs.parse(ddp());
    StageSpec pre = spec.stages().get(0);
    assertThat(pre.engine().kind()).isEqualTo(EngineSpec.Kind.TORCH);
    assertThat(pre.engine().ranksFor(pre.resources())).isEqualTo(2);
    assertThat(spec.stages().get(1).engine()).isEqualTo(EngineSpec.builtin());
    // one rank a GPU unless told otherwise
    PipelineSpec gpus =
        PipelineSpecs.parse(
            ddp()
                .replace("engine: {kind: torch, ranks: 2}", "engine: {kind: torch}")
                .replace(
                    "    data: [{dataset: prose}]",
                    "    resources: {gpus: 8}\n    data: [{dataset: prose}]"));
    StageSpec eight = gpus.stages().get(0);
    assertThat(eight.engine().ranksFor(eight.resources())).isEqualTo(8);
    // a gang of two 8-GPU pods holds, and is billed for, 16 GPUs
    PipelineSpec gang =
        PipelineSpecs.parse(
            ddp()
                .replace("engine: {kind: torch, ranks: 2}", "engine: {kind: torch, nodes: 2}")
                .replace(
                    "    data: [{dataset: prose}]",
                    "    resources: {gpus: 8}\n    data: [{dataset: prose}]"));
    StageSpec two = gang.stages().get(0);
    assertThat(two.engine().gpusHeld(two.resources())).isEqualTo(16);
  }

  @Test
  void whatAnEngineCannotDoIsRefusedAtSubmit() throws Exception {
    assertThatThrownBy(() -> PipelineSpecs.parse(ddp().replace("kind: torch", "kind: deepspeed")))
        .hasMessageContaining("stages[0].engine.kind")
        .hasMessageContaining(
            "unknown engine 'deepspeed' (expected one of builtin, torch, command)");
    String sftOnTorch =
        ddp().replace("    from: pretrain\n", "    from: pretrain\n    engine: {kind: torch}\n");
    assertThat(PipelineSpecs.parse(sftOnTorch).stages().get(1).engine().kind())
        .isEqualTo(EngineSpec.Kind.TORCH);
    String rewardOnTorch =
        ddp()
            .replace(
                "    from: sft\n    data:", "    from: sft\n    engine: {kind: torch}\n    data:");
    assertThatThrownBy(() -> PipelineSpecs.parse(rewardOnTorch))
        .hasMessage(
            "stages[2].engine.kind: the torch engine trains [pretrain, sft] stages; a reward stage"
                + " runs on the built-in engine (docs/engines.md)");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    ddp()
                        .replace(
                            "data: [{dataset: prose}]",
                            "data: [{dataset: prose}, {dataset: chat}]")))
        .hasMessage(
            "stages[0].data: the torch engine trains on one dataset (its token set), got 2;"
                + " mixtures are the built-in engine's");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    ddp()
                        .replace(
                            "    data: [{dataset: prose}]",
                            "    resources: {gpus: 4}\n    data: [{dataset: prose}]")))
        .hasMessage(
            "stages[0].engine.ranks: the torch engine runs one rank a GPU, so a stage with"
                + " resources.gpus: 4 runs 4 ranks, got 2");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    ddp().replace("lr: 0.005,", "lr: 0.005, optimizer: adafactor,")))
        .hasMessage(
            "stages[0].hyperparameters.optimizer: the torch engine trains with adamw, got adafactor");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    ddp()
                        .replace(
                            "batchSize: 16, seqLen: 32, lr: 0.005",
                            "batchSize: 15, seqLen: 32, lr: 0.005")))
        .hasMessage(
            "stages[0].hyperparameters.batchSize: 15 rows do not split evenly over 2 ranks");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    ddp().replace("{kind: torch, ranks: 2}", "{kind: builtin, ranks: 2}")))
        .hasMessageContaining(
            "stages[0].engine.ranks: the built-in engine runs one process, got 2");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    ddp().replace("{kind: torch, ranks: 2}", "{kind: builtin, nodes: 2}")))
        .hasMessageContaining(
            "stages[0].engine.nodes: the built-in engine runs on one machine, got 2");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    ddp().replace("{kind: torch, ranks: 2}", "{kind: torch, ranks: 2, nodes: 3}")))
        .hasMessage(
            "stages[0].hyperparameters.batchSize: 16 rows do not split evenly over 6 ranks (2 on"
                + " each of 3 nodes)");
    // a team's own program: pretrain on one dataset, its hyperparameters its own to read
    PipelineSpec own =
        PipelineSpecs.parse(
            ddp()
                .replace(
                    "{kind: torch, ranks: 2}",
                    "{kind: command, ranks: 2, image: registry.example.com/t/train:1, command: [python3, train.py]}")
                .replace("lr: 0.005,", "lr: 0.005, optimizer: adafactor,"));
    assertThat(own.stages().get(0).engine().command()).containsExactly("python3", "train.py");
    assertThatThrownBy(
            () -> PipelineSpecs.parse(ddp().replace("{kind: torch, ranks: 2}", "{kind: command}")))
        .hasMessageStartingWith(
            "stages[0].engine.command: an engine of kind command names the program");
    assertThatThrownBy(
            () ->
                PipelineSpecs.parse(
                    ddp().replace("{kind: torch, ranks: 2}", "{kind: torch, command: [x]}")))
        .hasMessageStartingWith(
            "stages[0].engine.command: only an engine of kind command runs a program");
    String builtinOnEight =
        ddp()
            .replace("    engine: {kind: torch, ranks: 2}\n", "")
            .replace(
                "    data: [{dataset: prose}]",
                "    resources: {gpus: 8}\n    data: [{dataset: prose}]");
    assertThatThrownBy(() -> PipelineSpecs.parse(builtinOnEight))
        .hasMessageEndingWith("; engine: {kind: torch} trains on 8");
  }

  @Test
  void syntaxErrorsGiveTheLine() {
    assertThatThrownBy(
            () -> PipelineSpecs.parse("apiVersion: anneal.dev/v1\nkind: Pipeline\nstages: [\n"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageStartingWith("malformed YAML at line");
    assertThatThrownBy(() -> PipelineSpecs.parse("apiVersion: anneal.dev/v2\nkind: Pipeline\n"))
        .hasMessage("apiVersion: must be 'anneal.dev/v1', got 'anneal.dev/v2'");
  }
}
