package dev.anneal.workflows.api.stage;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** The I/O the pipeline and stage workflows need; implemented in the activities module. */
@ActivityInterface
public interface StageActivities {

  /** Writes the attempt's RunSpec to S3 and its row to PostgreSQL. Idempotent per attempt. */
  @ActivityMethod
  PreparedAttempt prepare(AttemptPlan plan);

  /** Starts the job; a job that already exists under the name counts as started. */
  @ActivityMethod
  void launch(PreparedAttempt attempt);

  /** Follows the job to its end, heartbeating; re-attaches after a worker crash. */
  @ActivityMethod
  AttemptOutcome await(PreparedAttempt attempt);

  /**
   * Stops the attempt's job (the runner gets SIGTERM and commits a checkpoint) and marks the
   * attempt and stage CANCELLED. Idempotent; a job that is already gone is fine.
   */
  @ActivityMethod
  void cancel(PreparedAttempt attempt);

  /** Writes a decision (rollback, restart, failure) to the pipeline's event log. */
  @ActivityMethod
  void record(StageEvent event);

  /** The pipeline's status row (RUNNING, PAUSED, WAITING_APPROVAL, SUCCEEDED, FAILED, …). */
  @ActivityMethod
  void pipelineStatus(String pipelineId, String status, String reason);
}
