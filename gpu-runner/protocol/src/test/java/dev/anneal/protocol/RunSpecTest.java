package dev.anneal.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class RunSpecTest {

  @Test
  void roundTripsThroughJson() {
    RunSpec spec = Samples.spec();
    String json = ProtocolJson.write(spec);
    assertThat(ProtocolJson.readSpec(json)).isEqualTo(spec);
  }

  @Test
  void missingValuesTakeTheSurveyDefaults() {
    RunSpec spec =
        ProtocolJson.readSpec(
            """
            {"team":"t","pipeline":"p","stage":"sft","attempt":1,
             "training":{"steps":10},
             "store":{"endpoint":"http://s3","bucket":"b"}}
            """);
    TrainingConfig t = spec.training();
    assertThat(t.beta1()).isEqualTo(0.9);
    assertThat(t.beta2()).isEqualTo(0.95);
    assertThat(t.eps()).isEqualTo(1e-8);
    assertThat(t.weightDecay()).isEqualTo(0.1);
    assertThat(t.gradClip()).isEqualTo(1.0);
    assertThat(t.minLrRatio()).isEqualTo(0.1);
    assertThat(t.optimizer()).isEqualTo("adamw");
    assertThat(t.precision()).isEqualTo("fp32");
    assertThat(spec.apiVersion()).isEqualTo(RunSpec.API_VERSION);
    assertThat(spec.model().preset()).isEqualTo("tiny");
    assertThat(spec.stability().skipWindows()).isEmpty();
  }

  @Test
  void anRlhfSpecNeedsItsRewardModelAndTakesPpoDefaults() {
    String rlhf =
        """
        {"team":"t","pipeline":"p","stage":"rlhf","attempt":1,
         "training":{"steps":10},
         "initFrom":{"manifestKey":"a/sft/manifest.json"},
         %s
         "store":{"endpoint":"http://s3","bucket":"b"}}
        """;
    assertThatThrownBy(() -> ProtocolJson.readSpec(rlhf.formatted("")))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("rewardFrom: an rlhf stage needs the reward model's checkpoint");
    RunSpec ok =
        ProtocolJson.readSpec(
            rlhf.formatted("\"rewardFrom\":{\"manifestKey\":\"a/rm/manifest.json\"},"));
    assertThat(ok.rl().lambda()).isEqualTo(0.95);
    assertThat(ok.rl().gamma()).isEqualTo(1.0);
    assertThat(ok.rl().clipRange()).isEqualTo(0.2);
    assertThat(ok.rl().klTarget()).isNull();
    assertThatThrownBy(
            () ->
                ProtocolJson.readSpec(
                    rlhf.formatted(
                        "\"rewardFrom\":{\"manifestKey\":\"a/rm/manifest.json\"},"
                            + "\"rl\":{\"topP\":1.5},")))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("rl.topP: must be in (0, 1], got 1.5");
    assertThatThrownBy(
            () ->
                ProtocolJson.readSpec(
                    rlhf.replace("\"rlhf\"", "\"sft\"").formatted("\"rl\":{\"klCoef\":0.1},")))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("rl: only an rlhf stage takes one");
  }

  @Test
  void unknownFieldIsAnErrorThatNamesThePath() {
    ObjectNode node = ProtocolJson.mapper().valueToTree(Samples.spec());
    ((ObjectNode) node.get("training")).put("learningRate", 0.1);
    assertThatThrownBy(() -> ProtocolJson.readSpec(node.toString()))
        .isInstanceOf(ProtocolException.class)
        .hasMessageStartingWith("training.learningRate: unknown field")
        .hasMessageContaining("lr");
  }

  @Test
  void badValueNamesTheNestedField() {
    ObjectNode node = ProtocolJson.mapper().valueToTree(Samples.spec());
    ((ObjectNode) node.get("training")).put("lr", -1);
    assertThatThrownBy(() -> ProtocolJson.readSpec(node.toString()))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("training.lr: must be > 0, got -1.0")
        .extracting(e -> ((ProtocolException) e).path())
        .isEqualTo("training.lr");
  }

  @Test
  void badValueInsideAListNamesTheIndex() {
    ObjectNode node = ProtocolJson.mapper().valueToTree(Samples.spec());
    ((ObjectNode) node.withArray("datasets").get(1)).put("weight", 0);
    assertThatThrownBy(() -> ProtocolJson.readSpec(node.toString()))
        .hasMessage("datasets[1].weight: must be > 0, got 0.0");
  }

  @Test
  void unknownStageIsNamed() {
    ObjectNode node = ProtocolJson.mapper().valueToTree(Samples.spec());
    node.put("stage", "dpo");
    assertThatThrownBy(() -> ProtocolJson.readSpec(node.toString()))
        .hasMessageContaining("stage")
        .hasMessageContaining("unknown stage 'dpo'");
  }

  @Test
  void malformedJsonGivesLineAndColumn() {
    assertThatThrownBy(() -> ProtocolJson.readSpec("{\n  \"team\": \"t\",\n  oops\n}"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("malformed JSON at line 3");
  }

  @Test
  void pretrainWithoutDataIsRefused() {
    ObjectNode node = ProtocolJson.mapper().valueToTree(Samples.spec());
    node.putArray("datasets");
    assertThatThrownBy(() -> ProtocolJson.readSpec(node.toString()))
        .hasMessage("datasets: pretrain needs at least one dataset");
  }

  @Test
  void headsMustDivideTheModelWidth() {
    assertThatThrownBy(() -> new ModelConfig(null, 100, 2, 3, null, null, null, null, null, null))
        .hasMessageStartingWith("nHeads: must divide dModel");
  }

  @Test
  void skipWindowsAreHalfOpen() {
    StabilityConfig s = Samples.spec().stability();
    assertThat(s.skips(89)).isFalse();
    assertThat(s.skips(90)).isTrue();
    assertThat(s.skips(299)).isTrue();
    assertThat(s.skips(300)).isFalse();
  }
}
