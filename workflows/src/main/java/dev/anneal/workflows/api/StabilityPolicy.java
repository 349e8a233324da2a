package dev.anneal.workflows.api;

/**
 * A stage's stability policy from the pipeline spec.
 *
 * @param rollbackSteps resume from a healthy checkpoint at least this many steps before the first
 *     anomalous step (PaLM restarted about 100 steps before a spike)
 * @param skipBatches how many data batches to skip from the resume point (PaLM: 200-500)
 * @param lrFactor multiply the learning rate by this on each rollback (1.0 keeps it)
 * @param maxRollbacks rollbacks allowed before the stage fails
 * @param maxRestarts infrastructure restarts allowed before the stage fails
 */
public record StabilityPolicy(
    int rollbackSteps, int skipBatches, double lrFactor, int maxRollbacks, int maxRestarts) {

  public static final StabilityPolicy DEFAULT = new StabilityPolicy(100, 200, 1.0, 3, 3);

  public StabilityPolicy {
    if (rollbackSteps < 0) {
      throw new IllegalArgumentException("rollback.steps: must be >= 0, got " + rollbackSteps);
    }
    if (skipBatches < 0) {
      throw new IllegalArgumentException("skipBatches: must be >= 0, got " + skipBatches);
    }
    if (!(lrFactor > 0 && lrFactor <= 1)) {
      throw new IllegalArgumentException("lrFactor: must be in (0, 1], got " + lrFactor);
    }
    if (maxRollbacks < 0) {
      throw new IllegalArgumentException("maxRollbacks: must be >= 0, got " + maxRollbacks);
    }
    if (maxRestarts < 0) {
      throw new IllegalArgumentException("maxRestarts: must be >= 0, got " + maxRestarts);
    }
  }
}
