package dev.anneal.workflows.impl;

import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.stage.AttemptActivities;
import dev.anneal.workflows.api.stage.JobActivities;
import dev.anneal.workflows.api.stage.LedgerActivities;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;

/**
 * Every activity's timeouts and retries, in one place, and the stubs that bind each activity
 * interface to its queue's options: workflow code gets its stubs here, so a control call cannot go
 * to the jobs queue or a job watch to the control queue.
 */
public final class ActivityOptionsCatalog {
  private ActivityOptionsCatalog() {}

  /** prepare, launch, cancel on the control queue. */
  public static AttemptActivities attempts() {
    return Workflow.newActivityStub(AttemptActivities.class, control());
  }

  /** record, pipelineStatus on the control queue. */
  public static LedgerActivities ledger() {
    return Workflow.newActivityStub(LedgerActivities.class, control());
  }

  /** await on the jobs queue, for at most {@code stageTimeout}. */
  public static JobActivities jobs(Duration stageTimeout) {
    return Workflow.newActivityStub(JobActivities.class, await(stageTimeout));
  }

  /** prepare, launch, record: short I/O, retried with backoff; bad input is not retried. */
  static ActivityOptions control() {
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
  static ActivityOptions await(Duration stageTimeout) {
    return ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.JOBS)
        .setStartToCloseTimeout(stageTimeout)
        .setHeartbeatTimeout(Duration.ofSeconds(60))
        // a cancelled stage stops its job (AttemptActivities.cancel) and the await, left to run,
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
