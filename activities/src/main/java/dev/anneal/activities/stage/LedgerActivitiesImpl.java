package dev.anneal.activities.stage;

import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.workflows.api.stage.LedgerActivities;
import dev.anneal.workflows.api.stage.StageEvent;
import dev.anneal.workflows.api.status.PipelineStatus;
import java.util.UUID;

/** The workflows' decisions to the pipeline's event log, and the pipeline's status row. */
public final class LedgerActivitiesImpl implements LedgerActivities {

  private final MetadataStore meta;

  public LedgerActivitiesImpl(MetadataStore meta) {
    this.meta = meta;
  }

  @Override
  public void pipelineStatus(String pipelineId, PipelineStatus status, String reason) {
    meta.pipelines().setStatus(UUID.fromString(pipelineId), status, reason);
  }

  @Override
  public void record(StageEvent event) {
    UUID pipeline = UUID.fromString(event.pipelineId());
    meta.stages()
        .recordEvent(pipeline, stageOf(event), event.status(), event.severity(), event.message());
  }

  private UUID stageOf(StageEvent event) {
    return event.stageId() == null ? null : UUID.fromString(event.stageId());
  }
}
