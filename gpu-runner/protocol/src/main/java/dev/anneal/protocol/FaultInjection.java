package dev.anneal.protocol;

/**
 * Deliberate faults for tests and demos, announced in the event stream as such: multiply the
 * learning rate by {@code spikeLrMultiplier} for {@code spikeSteps} steps from {@code spikeAtStep}
 * (a loss spike), make the loss NaN at {@code nanAtStep}, or crash the process at {@code
 * crashAtStep}. An injection fires only on attempts up to {@code untilAttempt}, so a rollback or
 * restart can succeed. With {@code onDemand}, the runner also fires a spike or a NaN when a file
 * named {@value #SPIKE_FILE} or {@value #NAN_FILE} appears in its working directory (it deletes the
 * file, so each fires once, on whichever attempt is running): the chaos benchmark's way to strike
 * at a time of its choosing.
 */
public record FaultInjection(
    Long spikeAtStep,
    Integer spikeSteps,
    Double spikeLrMultiplier,
    Long nanAtStep,
    Long crashAtStep,
    Integer untilAttempt,
    Boolean onDemand) {

  /** The file whose appearance in the runner's working directory starts a spike. */
  public static final String SPIKE_FILE = "inject-spike";

  /** The file whose appearance in the runner's working directory makes the next loss NaN. */
  public static final String NAN_FILE = "inject-nan";

  public FaultInjection {
    spikeSteps = Checks.orDefault(spikeSteps, 5);
    spikeLrMultiplier = Checks.orDefault(spikeLrMultiplier, 100.0);
    untilAttempt = Checks.orDefault(untilAttempt, 1);
    onDemand = Checks.orDefault(onDemand, false);
    if (spikeAtStep != null) Checks.nonNegative("spikeAtStep", spikeAtStep);
    if (nanAtStep != null) Checks.nonNegative("nanAtStep", nanAtStep);
    if (crashAtStep != null) Checks.nonNegative("crashAtStep", crashAtStep);
    Checks.positive("spikeSteps", spikeSteps);
    Checks.positive("spikeLrMultiplier", spikeLrMultiplier);
    Checks.positive("untilAttempt", untilAttempt);
  }

  /** The step-scheduled faults alone, as before on-demand ones existed. */
  public FaultInjection(
      Long spikeAtStep,
      Integer spikeSteps,
      Double spikeLrMultiplier,
      Long nanAtStep,
      Long crashAtStep,
      Integer untilAttempt) {
    this(spikeAtStep, spikeSteps, spikeLrMultiplier, nanAtStep, crashAtStep, untilAttempt, null);
  }

  public static FaultInjection none() {
    return new FaultInjection(null, null, null, null, null, null, null);
  }

  public boolean activeOn(int attempt) {
    return attempt <= untilAttempt;
  }
}
