package dev.anneal.workflows.impl;

import dev.anneal.workflows.api.TaskQueues;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import java.time.Duration;

/** Every activity's timeouts and retries, in one place. */
public final class ActivityOptionsCatalog {
  private ActivityOptionsCatalog() {}

  /** prepare, launch, record: short I/O, retried with backoff; bad input is not retried. */
  public static ActivityOptions control() {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.CONTROL)
        .setStartToCloseTimeout(Duration.ofMinutes(2))
        .setRetryOptions(
            RetryOptions.newBuilder()
                .setInitialInterval(Duration.ofSeconds(1))
                .setMaximumInterval(Duration.ofMinutes(1))
                .setMaximumAttempts(10)
                .setDoNotRetry(IllegalArgumentException.class.getName())
                .build())
        .build();
  }

  /**
   * await: as long as a stage may run, heartbeating; a lost worker's await is retried and
   * re-attaches.
   */
  public static ActivityOptions await(Duration stageTimeout) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.JOBS)
        .setStartToCloseTimeout(stageTimeout)
        .setHeartbeatTimeout(Duration.ofSeconds(60))
        // a cancelled stage stops its job (StageActivities.cancel) and the await, left to run,
        // returns when the job has ended; no cancel request goes to the server (see
        // StageWorkflowImpl)
        .setCancellationType(ActivityCancellationType.ABANDON)
        .setRetryOptions(
            RetryOptions.newBuilder()
                .setInitialInterval(Duration.ofSeconds(2))
                .setMaximumInterval(Duration.ofMinutes(1))
                .build())
        .build();
  }
}
