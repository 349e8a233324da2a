package dev.anneal.protocol;

/**
 * Deliberate faults for tests and demos, announced in the event stream as such: multiply the
 * learning rate by {@code spikeLrMultiplier} for {@code spikeSteps} steps from {@code spikeAtStep}
 * (a loss spike), make the loss NaN at {@code nanAtStep}, or crash the process at {@code
 * crashAtStep}. An injection fires only on attempts up to {@code untilAttempt}, so a rollback or
 * restart can succeed.
 */
public record FaultInjection(
    Long spikeAtStep,
    Integer spikeSteps,
    Double spikeLrMultiplier,
    Long nanAtStep,
    Long crashAtStep,
    Integer untilAttempt) {
  public FaultInjection {
    spikeSteps = Checks.orDefault(spikeSteps, 5);
    spikeLrMultiplier = Checks.orDefault(spikeLrMultiplier, 100.0);
    untilAttempt = Checks.orDefault(untilAttempt, 1);
    if (spikeAtStep != null) Checks.nonNegative("spikeAtStep", spikeAtStep);
    if (nanAtStep != null) Checks.nonNegative("nanAtStep", nanAtStep);
    if (crashAtStep != null) Checks.nonNegative("crashAtStep", crashAtStep);
    Checks.positive("spikeSteps", spikeSteps);
    Checks.positive("spikeLrMultiplier", spikeLrMultiplier);
    Checks.positive("untilAttempt", untilAttempt);
  }

  public static FaultInjection none() {
    return new FaultInjection(null, null, null, null, null, null);
  }

  public boolean activeOn(int attempt) {
    return attempt <= untilAttempt;
  }
}
