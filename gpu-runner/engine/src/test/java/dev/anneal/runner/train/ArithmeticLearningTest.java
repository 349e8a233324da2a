package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.ckpt.DirectoryStore;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.eval.GreedyAnswers;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Transformer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tiny preset learns the arithmetic facts: greedy exact-match rises from chance to most. */
class ArithmeticLearningTest {

  @TempDir Path dir;

  @Test
  void tinyModelLearnsTheAdditionTable() {
    RunSpec spec =
        RunSpec.builder()
            .team("t")
            .pipeline("p")
            .stage(StageKind.PRETRAIN)
            .attempt(1)
            .device("cpu")
            .seed(3L)
            .model(ModelConfig.preset("tiny"))
            .training(
                TrainingConfig.builder()
                    .steps(400L)
                    .batchSize(16)
                    .seqLen(32)
                    .gradAccum(1)
                    .lr(3e-3)
                    .warmupFraction(0.05)
                    .minLrRatio(0.1)
                    .build())
            .datasets(
                List.of(
                    new DatasetRef(
                        "arithmetic", "synthetic:arithmetic?docs=1500", null, 1.0, null)))
            .tokenizer(new TokenizerSpec(null, 400, false, null))
            .checkpoint(new CheckpointPolicy(1000, 1, 0))
            .store(new ObjectStoreTarget("file:", "local", null))
            .build();
    ModelShape shape = ModelShape.of(spec.model());
    DirectoryStore store = new DirectoryStore(dir);
    TrainingInputs.Inputs in = TrainingInputs.prepare(spec, shape, store, null);
    List<String> prompts = new ArrayList<>();
    List<String> answers = new ArrayList<>();
    for (int a = 0; a < 10; a++) {
      for (int b = 0; b < 10; b++) {
        String fact = SyntheticCorpus.arithmeticFact(a, b);
        int eq = fact.indexOf('=');
        prompts.add("\n" + fact.substring(0, eq + 1));
        answers.add(fact.substring(eq + 1));
      }
    }
    Transformer model = new Transformer(shape);
    try (SupervisedTrainer t =
        new SupervisedTrainer(
            spec,
            shape,
            in.sampler(),
            in.tokenizer(),
            store,
            new EventLog("t", "p", StageKind.PRETRAIN, 1, s -> {}),
            true,
            null,
            null,
            Objective.LANGUAGE_MODEL)) {
      double before =
          GreedyAnswers.evaluate(model, t.params(), in.tokenizer(), prompts, answers, 3).accuracy();
      assertThat(t.run().outcome()).isEqualTo(Outcome.FINISHED);
      double after =
          GreedyAnswers.evaluate(model, t.params(), in.tokenizer(), prompts, answers, 3).accuracy();
      assertThat(before).isLessThan(0.1);
      assertThat(after).as("exact match on the 100 sums, before %.2f", before).isGreaterThan(0.6);
    }
  }
}
