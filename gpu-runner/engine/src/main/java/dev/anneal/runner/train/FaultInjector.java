package dev.anneal.runner.train;

import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.events.EventLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The spec's deliberate faults for one attempt, as every trainer applies them: a learning-rate
 * spike, a NaN loss, a crash. Each fault is announced in the event stream as it fires. Off on
 * attempts past {@code inject.untilAttempt}, so the rollback or restart that follows can succeed.
 * With {@code inject.onDemand}, a spike or a NaN also fires when its file appears in the working
 * directory (checked once a step: one {@code stat}).
 */
public final class FaultInjector {

  /** Raised by {@code inject.crashAtStep}: the process dies without a final checkpoint. */
  public static final class InjectedCrash extends RuntimeException {
    InjectedCrash(long step) {
      super("FAULT INJECTION: crash at step " + step);
    }
  }

  private final FaultInjection inject;
  private final boolean armed;
  private final EventLog events;
  private final Path dir;
  private long demandedSpikeFrom = -1;

  private FaultInjector(FaultInjection inject, boolean armed, EventLog events, Path dir) {
    this.inject = inject;
    this.armed = armed;
    this.events = events;
    this.dir = dir;
  }

  /** The spec's injection for this attempt (announced when it fires on this attempt). */
  public static FaultInjector arm(RunSpec spec, EventLog events) {
    return arm(spec, events, Path.of("").toAbsolutePath());
  }

  /** As {@link #arm(RunSpec, EventLog)}, watching {@code dir} for on-demand faults. */
  static FaultInjector arm(RunSpec spec, EventLog events, Path dir) {
    FaultInjection inject = spec.inject();
    boolean on = inject.activeOn(spec.attempt());
    if (on
        && (inject.spikeAtStep() != null
            || inject.nanAtStep() != null
            || inject.crashAtStep() != null)) {
      events.log("WARN", "FAULT INJECTION armed for this attempt: " + inject);
    }
    if (inject.onDemand()) {
      events.log(
          "WARN",
          "FAULT INJECTION on demand: a file "
              + FaultInjection.SPIKE_FILE
              + " or "
              + FaultInjection.NAN_FILE
              + " in the working directory fires a spike or a NaN");
    }
    return new FaultInjector(inject, on, events, dir);
  }

  /** Whether the on-demand file {@code name} was there (it is taken, so it fires once). */
  private boolean demanded(String name) {
    if (!inject.onDemand()) return false;
    try {
      return Files.deleteIfExists(dir.resolve(name));
    } catch (IOException e) {
      return false;
    }
  }

  /** Dies as the injection asks, without a final checkpoint. */
  public void crashIfDue(long step) {
    if (armed && inject.crashAtStep() != null && step == inject.crashAtStep()) {
      events.log("ERROR", "FAULT INJECTION: crashing at step " + step);
      throw new InjectedCrash(step);
    }
  }

  /**
   * The learning rate of {@code step}: {@code lr}, or multiplied during an injected spike (the
   * first spiking step announces it, naming {@code what} is spiked).
   */
  public double learningRate(long step, double lr, String what) {
    if (demanded(FaultInjection.SPIKE_FILE)) {
      demandedSpikeFrom = step;
      events.log(
          "WARN",
          String.format(
              "FAULT INJECTION (on demand): %s x%.0f for steps %d-%d",
              what, inject.spikeLrMultiplier(), step, step + inject.spikeSteps() - 1));
    }
    if (demandedSpikeFrom >= 0
        && step >= demandedSpikeFrom
        && step < demandedSpikeFrom + inject.spikeSteps()) {
      return lr * inject.spikeLrMultiplier();
    }
    if (!armed
        || inject.spikeAtStep() == null
        || step < inject.spikeAtStep()
        || step >= inject.spikeAtStep() + inject.spikeSteps()) {
      return lr;
    }
    if (step == inject.spikeAtStep()) {
      events.log(
          "WARN",
          String.format(
              "FAULT INJECTION: %s x%.0f for steps %d-%d",
              what, inject.spikeLrMultiplier(), step, step + inject.spikeSteps() - 1));
    }
    return lr * inject.spikeLrMultiplier();
  }

  /** Whether {@code step}'s loss is to be made NaN (announced, naming {@code what} loss). */
  public boolean poisons(long step, String what) {
    boolean poison = armed && inject.nanAtStep() != null && step == inject.nanAtStep();
    if (poison) events.log("WARN", "FAULT INJECTION: NaN " + what + " at step " + step);
    if (!poison && demanded(FaultInjection.NAN_FILE)) {
      events.log("WARN", "FAULT INJECTION (on demand): NaN " + what + " at step " + step);
      poison = true;
    }
    return poison;
  }
}
