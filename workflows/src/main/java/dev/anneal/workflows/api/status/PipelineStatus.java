package dev.anneal.workflows.api.status;

/**
 * A pipeline's status: the {@code pipelines.status} column (its CHECK constraint lists exactly
 * these), the API's {@code status} field and filter, and the pipeline workflow's result.
 */
public enum PipelineStatus {
  PENDING,
  RUNNING,
  PAUSED,
  WAITING_APPROVAL,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  /** SUCCEEDED, FAILED or CANCELLED: nothing will change the pipeline again. */
  public boolean isFinal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }

  /** Counts against a team's concurrent-pipeline quota (not yet final). */
  public boolean isActive() {
    return !isFinal();
  }

  /** The names of the active statuses, as a SQL parameter ({@code status = ANY(?)}). */
  public static String[] activeNames() {
    return java.util.Arrays.stream(values())
        .filter(PipelineStatus::isActive)
        .map(Enum::name)
        .toArray(String[]::new);
  }

  /** Whether {@code name} is a status's name. */
  public static boolean isName(String name) {
    return java.util.Arrays.stream(values()).anyMatch(s -> s.name().equals(name));
  }
}
