package dev.anneal.workflows.api.status;

/**
 * A stage's status: the {@code stages.status} column (its CHECK constraint lists exactly these),
 * the stage workflow's decisions ({@code StageEvent}) and its result ({@code StageResult}).
 */
public enum StageStatus {
  PENDING,
  RUNNING,
  ROLLING_BACK,
  RESTARTING,
  WAITING_APPROVAL,
  SUCCEEDED,
  FAILED,
  CANCELLED,
  SKIPPED;

  /** SUCCEEDED, FAILED or CANCELLED: the stage's end time is set. */
  public boolean isFinal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }
}
