package dev.anneal.protocol;

import java.util.List;

final class Samples {
  private Samples() {}

  static RunSpec spec() {
    return RunSpec.builder()
        .team("research")
        .pipeline("tiny-chat-1")
        .stage(StageKind.PRETRAIN)
        .attempt(2)
        .device("cpu")
        .seed(7L)
        .model(ModelConfig.preset("tiny"))
        .training(
            TrainingConfig.builder()
                .steps(200L)
                .batchSize(8)
                .seqLen(64)
                .gradAccum(1)
                .lr(1e-3)
                .warmupFraction(0.02)
                .minLrRatio(0.1)
                .optimizer("adamw")
                .precision("fp32")
                .batchRamp(new TrainingConfig.BatchRamp(2, 10_000L))
                .build())
        .datasets(
            List.of(
                new DatasetRef(
                    "stories",
                    "teams/research/datasets/stories/v1/data.jsonl",
                    "a".repeat(64),
                    0.7,
                    "text"),
                new DatasetRef(
                    "code", "teams/research/datasets/code/v3/data.jsonl", null, 0.3, "text")))
        .curriculum(List.of(new CurriculumPhase(100L, java.util.Map.of("code", 1.0))))
        .tokenizer(new TokenizerSpec(null, 1024, true, null))
        .resumeFrom(
            new CheckpointRef(
                ObjectKeys.checkpointManifest(
                    "research", "tiny-chat-1", StageKind.PRETRAIN, 100, 1),
                100L))
        .checkpoint(new CheckpointPolicy(25, 4, 100))
        .stability(
            new StabilityConfig(
                null,
                null,
                null,
                null,
                null,
                null,
                0.5,
                List.of(new StabilityConfig.BatchWindow(90L, 300L))))
        .store(new ObjectStoreTarget("http://127.0.0.1:9000", "anneal", null))
        .events(new EventSink("http://127.0.0.1:8080/internal/v1/events", null, null))
        .inject(new FaultInjection(150L, null, null, null, null, null))
        .build();
  }
}
