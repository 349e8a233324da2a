package dev.anneal.runner.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.StageKind;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StageKindsTest {

  @Test
  void everyStageKindOfTheProtocolHasARunAndEachAttemptGetsItsOwn() {
    Map<StageKind, Class<?>> expected =
        Map.of(
            StageKind.PRETRAIN, PretrainRun.class,
            StageKind.SFT, SftRun.class,
            StageKind.REWARD, RewardRun.class,
            StageKind.RLHF, RlhfRun.class);
    assertThat(expected.keySet()).containsExactlyInAnyOrder(StageKind.values());
    for (StageKind kind : StageKind.values()) {
      StageRun run = StageKinds.forKind(kind);
      assertThat(run).as("%s", kind).isInstanceOf(expected.get(kind));
      // a run keeps the attempt's inputs: never shared between attempts
      assertThat(StageKinds.forKind(kind)).isNotSameAs(run);
    }
  }
}
