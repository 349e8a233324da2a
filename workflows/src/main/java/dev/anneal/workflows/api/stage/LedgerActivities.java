package dev.anneal.workflows.api.stage;

import dev.anneal.workflows.api.status.PipelineStatus;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * What the workflows write down for people, on the control queue: decisions to the event log and
 * the pipeline's status row. Stubs come from {@code ActivityOptionsCatalog.ledger()}.
 */
@ActivityInterface
public interface LedgerActivities {

  /** Writes a decision (rollback, restart, failure) to the pipeline's event log. */
  @ActivityMethod
  void record(StageEvent event);

  /** The pipeline's status row (RUNNING, PAUSED, WAITING_APPROVAL, SUCCEEDED, FAILED, …). */
  @ActivityMethod
  void pipelineStatus(String pipelineId, PipelineStatus status, String reason);
}
