package dev.anneal.runner.stage;

import ai.djl.ndarray.NDManager;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.data.RewardBatches;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.train.Objective;
import dev.anneal.runner.train.RewardObjective;
import dev.anneal.runner.train.SupervisedTrainer;
import dev.anneal.runner.train.TrainingInputs;
import java.util.Map;

/**
 * A reward model: the pairwise preference loss on chosen/rejected pairs, with pairwise accuracy on
 * held-out pairs before and after.
 */
final class RewardRun extends SupervisedRun {
  private RewardBatches pairs;

  @Override
  TrainingInputs.Inputs prepare(Attempt a, CheckpointReader.Loaded from) {
    TrainingInputs.RewardInputs prefs =
        TrainingInputs.prepareReward(a.spec(), a.shape(), a.store(), from);
    pairs = prefs.batches();
    return new TrainingInputs.Inputs(prefs.tokenizer(), pairs, Map.of());
  }

  @Override
  Objective objective() {
    return new RewardObjective();
  }

  @Override
  boolean perplexity() {
    return false;
  }

  @Override
  Map<String, Double> before(Attempt a, SupervisedTrainer trainer) {
    return Map.of("pairwise_accuracy_before", evaluate(a, trainer).pairwiseAccuracy());
  }

  @Override
  void after(Attempt a, SupervisedTrainer trainer, Map<String, Double> summary) {
    RewardObjective.Eval e1 = evaluate(a, trainer);
    summary.put("pairwise_accuracy", e1.pairwiseAccuracy());
    summary.put("reward_margin", e1.meanMargin());
    a.events()
        .log(
            "INFO",
            String.format(
                "reward model: pairwise accuracy %.3f on %d held-out pairs (mean margin %.3f)",
                e1.pairwiseAccuracy(), e1.pairs(), e1.meanMargin()));
  }

  private RewardObjective.Eval evaluate(Attempt a, SupervisedTrainer trainer) {
    try (NDManager m = NDManager.newBaseManager()) {
      return RewardObjective.evaluate(
          new Transformer(a.shape()), trainer.params(), m, pairs, a.seqLen());
    }
  }
}
