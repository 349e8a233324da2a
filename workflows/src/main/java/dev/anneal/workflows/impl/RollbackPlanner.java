package dev.anneal.workflows.impl;

import dev.anneal.protocol.StabilityConfig.BatchWindow;
import dev.anneal.workflows.api.StabilityPolicy;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import dev.anneal.workflows.api.stage.PastRollback;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Decides where a stage resumes after an instability: the newest healthy checkpoint at least {@code
 * rollbackSteps} before the first anomalous step, a window of data batches to skip, and a
 * learning-rate factor. Pure and deterministic, so it runs inside workflow code.
 *
 * <p>The window starts at the resume point's data cursor and covers at least the suspect batches
 * (PaLM: "restart from a checkpoint roughly 100 steps before the spike, and skip roughly 200-500
 * data batches"). A spike that comes back inside or just after an earlier window means the window
 * was too small: it doubles for every repeat, and the LR factor compounds.
 */
public final class RollbackPlanner {

  /** What the runner reported. */
  public record Anomaly(long step, long firstBatch, long lastBatch, String description) {}

  /** An earlier rollback of the same stage. */
  /**
   * The decision: resume from {@code resumeFrom} (empty: from the stage's starting weights),
   * skipping {@code skipWindows} (earlier windows are kept), at {@code lrFactor} times the LR.
   */
  public record Plan(
      Optional<CheckpointCandidate> resumeFrom,
      List<BatchWindow> skipWindows,
      BatchWindow newWindow,
      double lrFactor,
      int repeat,
      String explanation) {}

  /** Either a plan, or the reason there is none. */
  public record Decision(Optional<Plan> plan, String failureReason) {
    static Decision of(Plan p) {
      return new Decision(Optional.of(p), null);
    }

    static Decision exhausted(String reason) {
      return new Decision(Optional.empty(), reason);
    }
  }

  private RollbackPlanner() {}

  public static Decision plan(
      Anomaly anomaly,
      List<CheckpointCandidate> checkpoints,
      List<PastRollback> history,
      StabilityPolicy policy) {
    if (history.size() >= policy.maxRollbacks()) {
      return Decision.exhausted(
          String.format(
              "training went unstable %d times (last: %s at step %d) and the rollback budget"
                  + " (maxRollbacks=%d) is spent; lower the learning rate, raise rollback.steps"
                  + " or skipBatches, or inspect data batches %d-%d",
              history.size() + 1,
              anomaly.description(),
              anomaly.step(),
              policy.maxRollbacks(),
              anomaly.firstBatch(),
              anomaly.lastBatch()));
    }

    long latestAllowed = anomaly.step() - policy.rollbackSteps();
    Optional<CheckpointCandidate> resume =
        checkpoints.stream()
            .filter(CheckpointCandidate::healthy)
            .filter(c -> c.step() <= latestAllowed)
            .max(Comparator.comparingLong(CheckpointCandidate::step));
    long resumeBatch = resume.map(CheckpointCandidate::batchesConsumed).orElse(0L);

    int repeat = 0;
    double lr = policy.lrFactor();
    for (PastRollback past : history) {
      BatchWindow w = past.window();
      long slack = Math.max(1, w.toBatch() - w.fromBatch());
      if (anomaly.firstBatch() >= w.fromBatch() && anomaly.firstBatch() < w.toBatch() + slack) {
        repeat++;
        lr = Math.min(lr, past.lrFactor() * policy.lrFactor());
      }
    }
    long width = (long) policy.skipBatches() << Math.min(repeat, 20);
    long from = resumeBatch;
    long to = Math.max(anomaly.lastBatch() + 1, from + width);
    BatchWindow window = new BatchWindow(from, Math.max(to, from + 1));

    List<BatchWindow> windows = new ArrayList<>();
    for (PastRollback past : history) {
      windows.add(past.window());
    }
    windows.add(window);
    lr = Math.max(lr, 1e-6);

    String explanation =
        String.format(
            "%s at step %d: resume from %s, skip data batches %d-%d%s%s",
            anomaly.description(),
            anomaly.step(),
            resume.map(c -> "the healthy checkpoint at step " + c.step()).orElse("the start"),
            window.fromBatch(),
            window.toBatch() - 1,
            lr < 1.0 ? String.format(", learning rate x%.3g", lr) : "",
            repeat > 0 ? String.format(" (repeat %d at this place: window widened)", repeat) : "");
    return Decision.of(new Plan(resume, List.copyOf(windows), window, lr, repeat, explanation));
  }
}
