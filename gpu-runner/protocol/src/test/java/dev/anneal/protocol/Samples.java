package dev.anneal.protocol;

import java.util.List;

final class Samples {
  private Samples() {}

  static RunSpec spec() {
    return new RunSpec(
        null,
        "research",
        "tiny-chat-1",
        StageKind.PRETRAIN,
        2,
        "cpu",
        7L,
        ModelConfig.preset("tiny"),
        new TrainingConfig(
            200L,
            8,
            64,
            1,
            1e-3,
            0.02,
            0.1,
            "adamw",
            null,
            null,
            null,
            null,
            null,
            "fp32",
            new TrainingConfig.BatchRamp(2, 10_000L),
            null),
        List.of(
            new DatasetRef(
                "stories",
                "teams/research/datasets/stories/v1/data.jsonl",
                "a".repeat(64),
                0.7,
                "text"),
            new DatasetRef(
                "code", "teams/research/datasets/code/v3/data.jsonl", null, 0.3, "text")),
        List.of(new CurriculumPhase(100L, java.util.Map.of("code", 1.0))),
        new TokenizerSpec(null, 1024, true, null),
        null,
        new CheckpointRef(
            ObjectKeys.checkpointManifest("research", "tiny-chat-1", StageKind.PRETRAIN, 100, 1),
            100L),
        new CheckpointPolicy(25, 4, 100),
        new StabilityConfig(
            null,
            null,
            null,
            null,
            null,
            null,
            0.5,
            List.of(new StabilityConfig.BatchWindow(90L, 300L))),
        new ObjectStoreTarget("http://127.0.0.1:9000", "anneal", null),
        new EventSink("http://127.0.0.1:8080/internal/v1/events", null, null),
        new FaultInjection(150L, null, null, null, null, null),
        null,
        null);
  }
}
