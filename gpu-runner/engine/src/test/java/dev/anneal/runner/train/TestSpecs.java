package dev.anneal.runner.train;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.model.ModelShape;
import java.util.ArrayList;
import java.util.List;

/** Small specs for trainer tests: the micro model on the synthetic corpus. */
final class TestSpecs {
  private TestSpecs() {}

  static final List<DatasetRef> MIX =
      List.of(
          new DatasetRef("arithmetic", "synthetic:arithmetic?docs=300", null, 1.0, null),
          new DatasetRef("prose", "synthetic:prose?docs=300", null, 1.0, null),
          new DatasetRef("code", "synthetic:code?docs=300", null, 1.0, null),
          new DatasetRef("dialogue", "synthetic:dialogue?docs=300", null, 1.0, null));

  static TrainingConfig training(long steps, double lr) {
    return TrainingConfig.builder()
        .steps(steps)
        .batchSize(8)
        .seqLen(32)
        .gradAccum(1)
        .lr(lr)
        .warmupFraction(0.05)
        .minLrRatio(0.1)
        .build();
  }

  static RunSpec spec(
      ModelConfig model,
      TrainingConfig training,
      int attempt,
      StabilityConfig stability,
      CheckpointPolicy checkpoint,
      CheckpointRef resume,
      FaultInjection inject) {
    return RunSpec.builder()
        .team("t")
        .pipeline("p")
        .stage(StageKind.PRETRAIN)
        .attempt(attempt)
        .device("cpu")
        .seed(5L)
        .model(model)
        .training(training)
        .datasets(MIX)
        .tokenizer(new TokenizerSpec(null, 300, false, null))
        .resumeFrom(resume)
        .checkpoint(checkpoint)
        .stability(stability)
        .store(new ObjectStoreTarget("file:", "local", null))
        .inject(inject)
        .build();
  }

  static RunSpec micro(TrainingConfig training) {
    return spec(
        ModelConfig.preset("micro"),
        training,
        1,
        null,
        new CheckpointPolicy(1000, 3, 0),
        null,
        null);
  }

  /** Runs a spec to its end (or instability) and returns the result and events. */
  record Run(SupervisedTrainer.Result result, EventLog events) {}

  static Run run(RunSpec spec, BlobStore store, CheckpointReader.Loaded resume, boolean async) {
    ModelShape shape = ModelShape.of(spec.model());
    TrainingInputs.Inputs in = TrainingInputs.prepare(spec, shape, store, resume);
    List<String> lines = new ArrayList<>();
    EventLog events =
        new EventLog(spec.team(), spec.pipeline(), spec.stage(), spec.attempt(), lines::add);
    try (SupervisedTrainer t =
        new SupervisedTrainer(
            spec,
            shape,
            in.sampler(),
            in.tokenizer(),
            store,
            events,
            async,
            resume,
            null,
            Objective.LANGUAGE_MODEL)) {
      return new Run(t.run(), events);
    }
  }
}
