package dev.anneal.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ObjectKeysTest {

  @Test
  void layoutIsStable() {
    assertThat(ObjectKeys.spec("research", "p-1", StageKind.SFT, 2))
        .isEqualTo("teams/research/pipelines/p-1/sft/attempt-2/spec.json");
    assertThat(ObjectKeys.checkpointManifest("research", "p-1", StageKind.PRETRAIN, 150, 2))
        .isEqualTo(
            "teams/research/pipelines/p-1/pretrain/checkpoints/step-00000150-a2/manifest.json");
    assertThat(ObjectKeys.dataset("research", "stories", 3))
        .isEqualTo("teams/research/datasets/stories/v3/data.jsonl");
    assertThat(ObjectKeys.model("research", "chat", 1)).isEqualTo("teams/research/models/chat/v1/");
  }

  @Test
  void checkpointKeysSortByStep() {
    String a = ObjectKeys.checkpointPrefix("t", "p", StageKind.SFT, 99, 3);
    String b = ObjectKeys.checkpointPrefix("t", "p", StageKind.SFT, 100, 1);
    assertThat(a).isLessThan(b);
  }

  @ParameterizedTest
  @ValueSource(strings = {"..", "../x", "a/b", "/abs", "", "UPPER", ".hidden", "a..b", "x y"})
  void namesThatCouldEscapeAPrefixAreRefused(String bad) {
    assertThatThrownBy(() -> ObjectKeys.dataset("team", bad, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a valid name");
    assertThatThrownBy(() -> ObjectKeys.teamPrefix(bad))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void checkpointFileNamesCannotContainSeparators() {
    assertThatThrownBy(() -> ObjectKeys.checkpointFile("t", "p", StageKind.SFT, 1, 1, "../../x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ObjectKeys.checkpointFile("t", "p", StageKind.SFT, 1, 1, "model.safetensors"))
        .endsWith("/step-00000001-a1/model.safetensors");
  }
}
