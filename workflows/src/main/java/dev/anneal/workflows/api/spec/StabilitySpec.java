package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.Checks;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.workflows.api.StabilityPolicy;
import java.util.List;

/**
 * A stage's stability policy: how the platform rolls back ({@code rollback.steps}, {@code
 * skipBatches}, {@code lrFactor}), its budgets ({@code maxRollbacks}, {@code maxRestarts}), and the
 * runner's detector thresholds.
 */
public record StabilitySpec(
    Rollback rollback,
    Integer skipBatches,
    Double lrFactor,
    Integer maxRollbacks,
    Integer maxRestarts,
    Double spikeZ,
    Double spikeRatio,
    Integer spikeConsecutive,
    Integer spikeWindow,
    Double gradNormLimit) {

  /** Resume at least {@code steps} before the first anomalous step (PaLM: about 100). */
  public record Rollback(Integer steps) {
    public Rollback {
      steps = Checks.orDefault(steps, StabilityPolicy.DEFAULT.rollbackSteps());
      Checks.nonNegative("steps", steps);
    }
  }

  public StabilitySpec {
    rollback = Checks.orDefault(rollback, new Rollback(null));
    skipBatches = Checks.orDefault(skipBatches, StabilityPolicy.DEFAULT.skipBatches());
    lrFactor = Checks.orDefault(lrFactor, StabilityPolicy.DEFAULT.lrFactor());
    maxRollbacks = Checks.orDefault(maxRollbacks, StabilityPolicy.DEFAULT.maxRollbacks());
    maxRestarts = Checks.orDefault(maxRestarts, StabilityPolicy.DEFAULT.maxRestarts());
    // the runner's own checks (StabilityConfig) apply to the detector thresholds
    detector(List.of(), 1.0, spikeZ, spikeRatio, spikeConsecutive, spikeWindow, gradNormLimit);
    policyOf(rollback.steps(), skipBatches, lrFactor, maxRollbacks, maxRestarts);
  }

  public static StabilitySpec defaults() {
    return new StabilitySpec(null, null, null, null, null, null, null, null, null, null);
  }

  public StabilityPolicy policy() {
    return policyOf(rollback.steps(), skipBatches, lrFactor, maxRollbacks, maxRestarts);
  }

  /** The runner's section for one attempt, with the rollback planner's windows and LR factor. */
  public StabilityConfig forAttempt(
      List<StabilityConfig.BatchWindow> skipWindows, double attemptLrFactor) {
    return detector(
        skipWindows,
        attemptLrFactor,
        spikeZ,
        spikeRatio,
        spikeConsecutive,
        spikeWindow,
        gradNormLimit);
  }

  private static StabilityConfig detector(
      List<StabilityConfig.BatchWindow> windows,
      double lr,
      Double z,
      Double ratio,
      Integer consecutive,
      Integer window,
      Double gradLimit) {
    return new StabilityConfig(z, ratio, consecutive, window, gradLimit, null, lr, windows);
  }

  private static StabilityPolicy policyOf(
      int steps, int skip, double lr, int rollbacks, int restarts) {
    return new StabilityPolicy(steps, skip, lr, rollbacks, restarts);
  }
}
