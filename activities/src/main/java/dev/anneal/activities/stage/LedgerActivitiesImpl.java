package dev.anneal.activities.stage;

import dev.anneal.activities.cards.ModelCards;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.workflows.api.stage.LedgerActivities;
import dev.anneal.workflows.api.stage.ModelCardRequest;
import dev.anneal.workflows.api.stage.StageEvent;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workflows' decisions to the pipeline's event log, the pipeline's status row, and the model
 * cards of finished stages.
 */
public final class LedgerActivitiesImpl implements LedgerActivities {

  private static final Logger log = LoggerFactory.getLogger(LedgerActivitiesImpl.class);

  private final MetadataStore meta;
  private final ModelCards cards;

  public LedgerActivitiesImpl(MetadataStore meta, ObjectStore store) {
    this.meta = meta;
    this.cards = new ModelCards(store, meta);
  }

  @Override
  public void modelCard(ModelCardRequest request) {
    try {
      cards.write(request);
    } catch (RuntimeException e) {
      // the card is for people; the pipeline goes on without it, and its log says why
      log.warn("the model card of {} was not rewritten", request.finalManifestKey(), e);
      meta.stages()
          .recordEvent(
              UUID.fromString(request.pipelineId()),
              null,
              StageStatus.SUCCEEDED, // a card is written for a stage that has succeeded
              "WARN",
              "the model card of "
                  + request.finalManifestKey()
                  + " was not rewritten from the lineage: "
                  + e.getMessage());
    }
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
