package dev.anneal.workflows.api.status;

/**
 * An attempt's status: the {@code attempts.status} column (its CHECK constraint lists exactly
 * these). An attempt is PREPARING until its job is launched, RUNNING once its first events arrive,
 * and ends in one of the final states.
 */
public enum AttemptStatus {
  PREPARING,
  LAUNCHED,
  RUNNING,
  SUCCEEDED,
  UNSTABLE,
  CRASHED,
  FAILED,
  CANCELLED;

  /** The attempt is over: its end time is set. */
  public boolean isFinal() {
    return switch (this) {
      case PREPARING, LAUNCHED, RUNNING -> false;
      default -> true;
    };
  }
}
