package dev.anneal.workflows.api.stage;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * Following a job to its end, on the jobs queue of its own so that long waits cannot starve the
 * control plane. Stubs come from {@code ActivityOptionsCatalog.jobs(…)}.
 */
@ActivityInterface
public interface JobActivities {

  /** Follows the job to its end, heartbeating; re-attaches after a worker crash. */
  @ActivityMethod
  AttemptOutcome await(PreparedAttempt attempt);
}
