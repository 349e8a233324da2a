package dev.anneal.torch;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunSpecBuilder;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * The attempt these tests run under the wrapper: pre-training of the micro model (batch 8 × 32, LR
 * 1e-2), a 300-id BPE trained on the data, checkpoints every {@code every} steps into a directory
 * store under the test's folder.
 */
final class MicroRuns {
  private MicroRuns() {}

  static final DatasetRef PROSE =
      new DatasetRef("prose", "synthetic:prose?docs=300", null, 1.0, null);

  static RunSpecBuilder pretrain(
      Path dir, long steps, long seed, int every, List<DatasetRef> data) {
    return RunSpecBuilder.builder(
        RunSpec.builder()
            .team("t")
            .pipeline("p")
            .stage(StageKind.PRETRAIN)
            .attempt(1)
            .seed(seed)
            .model(ModelConfig.preset("micro"))
            .training(
                TrainingConfig.builder()
                    .steps(steps)
                    .batchSize(8)
                    .seqLen(32)
                    .lr(1e-2)
                    .warmupFraction(0.05)
                    .build())
            .datasets(data)
            .tokenizer(new TokenizerSpec(null, 300, null, null))
            .checkpoint(new CheckpointPolicy(every, 10, null))
            .store(new ObjectStoreTarget("file:" + dir.resolve("store"), "local", null))
            .build());
  }
}
