package dev.anneal.runner.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.StageRuns;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.data.PreferenceData;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reward model: preference data, and learning to rank on held-out pairs. */
class RewardModelTest {

  @TempDir Path dir;

  @Test
  void preferencePairsAreReadAndBadLinesNamed() {
    List<PreferenceData.Preference> p =
        PreferenceData.parse(
            "prefs", "{\"prompt\": \"2 + 2?\", \"chosen\": \"4\", \"rejected\": \"5\"}\n");
    assertThat(p).containsExactly(new PreferenceData.Preference("2 + 2?", "4", "5"));
    assertThatThrownBy(
            () -> PreferenceData.parse("prefs", "\n{\"prompt\": \"x\", \"chosen\": \"y\"}"))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessage("prefs line 2: needs a field \"rejected\" (a text or messages)");
  }

  @Test
  void aRewardModelLearnsToRankHeldOutPairs() {
    ObjectStoreTarget store = new ObjectStoreTarget("file:" + dir, "local", null);
    ModelConfig tiny = ModelConfig.preset("tiny");
    StageRuns.finish(
        StageRuns.spec(
            StageKind.PRETRAIN,
            tiny,
            TrainingConfig.builder()
                .steps(400L)
                .batchSize(16)
                .seqLen(48)
                .gradAccum(1)
                .lr(3e-3)
                .warmupFraction(0.05)
                .minLrRatio(0.1)
                .build(),
            List.of(
                new DatasetRef("arithmetic", "synthetic:arithmetic?docs=400", null, 1.0, null),
                new DatasetRef("dialogue", "synthetic:dialogue?docs=400", null, 1.0, null)),
            null,
            store,
            null));
    String base = ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, 400, 1);
    Map<String, Double> rm =
        StageRuns.finish(
            StageRuns.spec(
                StageKind.REWARD,
                tiny,
                TrainingConfig.builder()
                    .steps(300L)
                    .batchSize(32)
                    .seqLen(48)
                    .gradAccum(1)
                    .lr(3e-4)
                    .warmupFraction(0.05)
                    .minLrRatio(0.1)
                    .build(),
                List.of(
                    new DatasetRef("prefs", "synthetic:preferences?docs=2000", null, 1.0, null)),
                new CheckpointRef(base, 400L),
                store,
                // the pairwise loss of a small batch jumps when it draws a hard pair; a spike
                // must last 8 steps
                new StabilityConfig(null, null, 8, null, null, null, null, null)));
    // the goal on the synthetic data is 0.9 (measured: 0.96, from 0.48 with a fresh head)
    assertThat(rm.get("pairwise_accuracy")).as("summary %s", rm).isGreaterThanOrEqualTo(0.9);
    assertThat(rm.get("reward_margin")).isPositive();
  }
}
