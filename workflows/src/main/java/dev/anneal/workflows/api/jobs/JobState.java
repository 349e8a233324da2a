package dev.anneal.workflows.api.jobs;

import java.time.Instant;

/** Where a launched job is. A finished job has an exit code; UNKNOWN means it was lost. */
public record JobState(
    String jobName,
    Phase phase,
    Integer exitCode,
    String reason,
    Instant startedAt,
    Instant finishedAt) {

  public enum Phase {
    PENDING,
    RUNNING,
    SUCCEEDED,
    FAILED,
    UNKNOWN
  }

  public boolean terminal() {
    return phase == Phase.SUCCEEDED || phase == Phase.FAILED || phase == Phase.UNKNOWN;
  }
}
