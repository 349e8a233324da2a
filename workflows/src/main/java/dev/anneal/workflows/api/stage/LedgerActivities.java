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

  /**
   * Rewrites a finished stage's {@code hf/README.md} from the lineage the platform holds: the
   * datasets with their versions and sha256, every stage so far with its figures and gate, where
   * the pipeline started. A stage without an export is left alone; a failure is logged, never the
   * pipeline's.
   */
  @ActivityMethod
  void modelCard(ModelCardRequest request);
}
