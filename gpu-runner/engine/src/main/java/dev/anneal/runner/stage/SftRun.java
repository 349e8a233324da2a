package dev.anneal.runner.stage;

import ai.djl.ndarray.NDManager;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.eval.ChatEval;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.train.SupervisedTrainer;
import dev.anneal.runner.train.TrainingInputs;
import java.util.Map;

/**
 * Supervised fine-tuning: next-token prediction on the responses of chat dialogues, with greedy
 * exact match on held-out questions before and after.
 */
final class SftRun extends SupervisedRun {
  private TrainingInputs.SftInputs chat;

  @Override
  TrainingInputs.Inputs prepare(Attempt a, CheckpointReader.Loaded from) {
    chat = TrainingInputs.prepareSft(a.spec(), a.shape(), a.store(), from);
    return new TrainingInputs.Inputs(chat.tokenizer(), chat.batches(), Map.of());
  }

  @Override
  Map<String, Double> before(Attempt a, SupervisedTrainer trainer) {
    ChatEval.Result e0 = exactMatch(a, trainer);
    a.events()
        .log(
            "INFO",
            String.format(
                "before sft: exact match %.3f on %d held-out questions (first answer: \"%s\")",
                e0.exactMatch(),
                e0.questions(),
                e0.answers().isEmpty() ? "" : e0.answers().get(0)));
    return Map.of("exact_match_before", e0.exactMatch());
  }

  @Override
  void after(Attempt a, SupervisedTrainer trainer, Map<String, Double> summary) {
    ChatEval.Result e1 = exactMatch(a, trainer);
    summary.put("exact_match", e1.exactMatch());
    a.events()
        .log(
            "INFO",
            String.format(
                "after sft: exact match %.3f on %d held-out questions (first answers: %s)",
                e1.exactMatch(),
                e1.questions(),
                e1.answers().subList(0, Math.min(3, e1.answers().size()))));
  }

  /** Exact match on (up to 100 of) the held-out dialogues' last answers. */
  private ChatEval.Result exactMatch(Attempt a, SupervisedTrainer trainer) {
    try (NDManager m = NDManager.newBaseManager()) {
      return ChatEval.exactMatch(
          new Transformer(a.shape()),
          trainer.params(),
          m,
          chat.tokenizer(),
          chat.template(),
          chat.batches().heldOut(),
          100,
          24);
    }
  }
}
