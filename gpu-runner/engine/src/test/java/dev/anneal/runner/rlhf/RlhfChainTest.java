package dev.anneal.runner.rlhf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.StageRuns;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole alignment chain on the micro model — pre-train, SFT, reward model, PPO — on the
 * synthetic data: PPO must raise the reward model's score of held-out answers without losing their
 * accuracy.
 */
class RlhfChainTest {

  @TempDir Path dir;

  @Test
  void ppoRaisesTheRewardModelsScoreOfHeldOutAnswers() {
    ObjectStoreTarget store = new ObjectStoreTarget("file:" + dir, "local", null);
    ModelConfig micro = ModelConfig.preset("micro");
    StageRuns.finish(
        StageRuns.spec(
            StageKind.PRETRAIN,
            micro,
            StageRuns.training(300L, 16, 48, 3e-3),
            List.of(
                new DatasetRef("arithmetic", "synthetic:arithmetic?docs=600", null, 1.0, null),
                new DatasetRef("dialogue", "synthetic:dialogue?docs=600", null, 1.0, null)),
            null,
            store,
            null));
    long pre = 300L;
    String base = ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, pre, 1);
    Map<String, Double> sft =
        StageRuns.finish(
            StageRuns.spec(
                StageKind.SFT,
                micro,
                StageRuns.training(150, 16, 48, 1e-3),
                List.of(new DatasetRef("chat", "synthetic:chat?docs=1000", null, 1.0, null)),
                new CheckpointRef(base, pre),
                store,
                null));
    String sftKey = ObjectKeys.checkpointManifest("t", "p", StageKind.SFT, 150, 1);
    Map<String, Double> rm =
        StageRuns.finish(
            StageRuns.spec(
                StageKind.REWARD,
                micro,
                StageRuns.training(200, 32, 48, 1e-3),
                List.of(
                    new DatasetRef("prefs", "synthetic:preferences?docs=2000", null, 1.0, null)),
                new CheckpointRef(sftKey, 150L),
                store,
                new StabilityConfig(null, null, 8, null, null, null, null, null)));
    String rmKey = ObjectKeys.checkpointManifest("t", "p", StageKind.REWARD, 200, 1);
    Map<String, Double> rl =
        StageRuns.finish(
            StageRuns.rlhf(
                micro,
                StageRuns.training(30, 16, 48, 5e-5),
                List.of(new DatasetRef("prompts", "synthetic:prompts?docs=600", null, 1.0, null)),
                new CheckpointRef(sftKey, 150L),
                new CheckpointRef(rmKey, 200L),
                RlConfig.builder()
                    .maxNewTokens(24)
                    .temperature(0.7)
                    .klCoef(0.1)
                    .criticLr(1e-3)
                    .evalEvery(0)
                    .build(),
                store,
                null));
    // measured: SFT exact match 0.17 (asserted: above the start), the reward model above 0.75; PPO
    // raised the held-out
    // reward from 0.49 to 0.75 in 30 steps, exact match 0.27 -> 0.22 (3 questions of 55), KL 0.10
    assertThat(sft.get("exact_match")).isGreaterThan(sft.get("exact_match_before"));
    assertThat(rm.get("pairwise_accuracy")).isGreaterThan(0.75);
    assertThat(rl.get("mean_reward"))
        .as("rlhf summary %s", rl)
        .isGreaterThan(rl.get("mean_reward_before") + 0.15);
    assertThat(rl.get("exact_match")).isGreaterThanOrEqualTo(rl.get("exact_match_before") - 0.1);
    assertThat(rl.get("kl")).isBetween(0.0, 5.0);
  }
}
