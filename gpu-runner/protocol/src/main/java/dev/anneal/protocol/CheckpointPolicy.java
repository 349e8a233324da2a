package dev.anneal.protocol;

/** How often the runner commits a checkpoint and how many it keeps. */
public record CheckpointPolicy(Integer everySteps, Integer keepLast) {
  public CheckpointPolicy {
    everySteps = Checks.orDefault(everySteps, 50);
    keepLast = Checks.orDefault(keepLast, 5);
    Checks.positive("everySteps", everySteps);
    Checks.positive("keepLast", keepLast);
  }

  public static CheckpointPolicy defaults() {
    return new CheckpointPolicy(null, null);
  }
}
