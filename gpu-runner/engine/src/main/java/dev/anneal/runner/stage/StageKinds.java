package dev.anneal.runner.stage;

import dev.anneal.protocol.StageKind;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

/** The registry of stage kinds: which {@link StageRun} runs an attempt of each. */
public final class StageKinds {
  private StageKinds() {}

  private static final Map<StageKind, Supplier<StageRun>> RUNS = new EnumMap<>(StageKind.class);

  static {
    RUNS.put(StageKind.PRETRAIN, PretrainRun::new);
    RUNS.put(StageKind.SFT, SftRun::new);
    RUNS.put(StageKind.REWARD, RewardRun::new);
    RUNS.put(StageKind.RLHF, RlhfRun::new);
  }

  /** A fresh run of the kind (a run keeps the attempt's state; one per attempt). */
  public static StageRun forKind(StageKind kind) {
    Supplier<StageRun> run = RUNS.get(kind);
    if (run == null) {
      throw new IllegalArgumentException("stage: this runner cannot run a " + kind + " stage");
    }
    return run.get();
  }
}
