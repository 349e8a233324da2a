package dev.anneal.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.events.EventLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** Stage attempts for tests: a RunSpec on a local store, run by the runner to its end. */
public final class StageRuns {
  private StageRuns() {}

  public static TrainingConfig training(long steps, int batch, int seqLen, double lr) {
    return TrainingConfig.builder()
        .steps(steps)
        .batchSize(batch)
        .seqLen(seqLen)
        .gradAccum(1)
        .lr(lr)
        .warmupFraction(0.05)
        .minLrRatio(0.1)
        .build();
  }

  public static RunSpec spec(
      StageKind stage,
      ModelConfig model,
      TrainingConfig training,
      List<DatasetRef> data,
      CheckpointRef init,
      ObjectStoreTarget store,
      StabilityConfig stability) {
    return RunSpec.builder()
        .team("t")
        .pipeline("p")
        .stage(stage)
        .attempt(1)
        .device("cpu")
        .seed(5L)
        .model(model)
        .training(training)
        .datasets(data)
        .tokenizer(new TokenizerSpec(null, 300, false, null))
        .initFrom(init)
        .checkpoint(new CheckpointPolicy(1000, 2, 0))
        .stability(stability)
        .store(store)
        .build();
  }

  /** An RLHF stage's spec: the actor starts from {@code init}, the critic from {@code reward}. */
  public static RunSpec rlhf(
      ModelConfig model,
      TrainingConfig training,
      List<DatasetRef> data,
      CheckpointRef init,
      CheckpointRef reward,
      RlConfig rl,
      ObjectStoreTarget store,
      StabilityConfig stability) {
    return spec(StageKind.PRETRAIN, model, training, data, init, store, stability).toBuilder()
        .stage(StageKind.RLHF)
        .rewardFrom(reward)
        .rl(rl)
        .build();
  }

  /** Runs the spec; it must finish; returns the summary of its {@code finished} event. */
  public static Map<String, Double> finish(RunSpec spec) {
    List<RunnerEvent> events = events(spec);
    return ((RunnerEvent.Finished) events.get(events.size() - 1)).summary();
  }

  /** Runs the spec; it must finish; returns every event it sent. */
  public static List<RunnerEvent> events(RunSpec spec) {
    List<String> lines = new ArrayList<>();
    EventLog events = new EventLog("t", "p", spec.stage(), 1, lines::add);
    int code =
        StageRunner.run(spec, StageRunner.store(spec.store()), events, new AtomicReference<>());
    assertThat(code).as(String.join("\n", lines)).isZero();
    return events.events();
  }
}
