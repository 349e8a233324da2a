package dev.anneal.protocol;

/**
 * How often the runner commits a checkpoint, how many of the newest it keeps, and every how many
 * steps one is kept for good (0: none).
 */
public record CheckpointPolicy(Integer everySteps, Integer keepLast, Integer keepEvery) {
  public CheckpointPolicy {
    everySteps = Checks.orDefault(everySteps, 50);
    keepLast = Checks.orDefault(keepLast, 5);
    keepEvery = Checks.orDefault(keepEvery, 0);
    Checks.positive("everySteps", everySteps);
    Checks.positive("keepLast", keepLast);
    Checks.nonNegative("keepEvery", keepEvery);
  }

  public static CheckpointPolicy defaults() {
    return new CheckpointPolicy(null, null, null);
  }

  /** Whether the checkpoint at {@code step} is kept for good (every K-th step, 0: none). */
  public boolean keepsForever(long step) {
    return keepEvery > 0 && step % keepEvery == 0;
  }
}
