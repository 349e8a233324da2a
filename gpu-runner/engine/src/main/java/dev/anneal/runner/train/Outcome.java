package dev.anneal.runner.train;

/** How a trainer's run ended. */
public enum Outcome {
  /** Every step of the spec was made and the final checkpoint committed. */
  FINISHED,
  /** The instability detector (or RL health) stopped training; nothing of the bad step applied. */
  UNSTABLE,
  /** A stop was asked for (SIGTERM): a checkpoint of the current step was committed first. */
  PREEMPTED
}
