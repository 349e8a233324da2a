package dev.anneal.workflows.api.stage;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * An attempt's short steps on the control queue: its RunSpec and row, its job, and stopping it.
 * Stubs come from {@code ActivityOptionsCatalog.attempts()}, bound to the control queue's options.
 */
@ActivityInterface
public interface AttemptActivities {

  /** Writes the attempt's RunSpec to S3 and its row to PostgreSQL. Idempotent per attempt. */
  @ActivityMethod
  PreparedAttempt prepare(AttemptPlan plan);

  /** Starts the job; a job that already exists under the name counts as started. */
  @ActivityMethod
  void launch(PreparedAttempt attempt);

  /**
   * Stops the attempt's job (the runner gets SIGTERM and commits a checkpoint) and marks the
   * attempt and stage CANCELLED. Idempotent; a job that is already gone is fine.
   */
  @ActivityMethod
  void cancel(PreparedAttempt attempt);
}
