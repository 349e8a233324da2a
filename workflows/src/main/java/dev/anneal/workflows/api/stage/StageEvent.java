package dev.anneal.workflows.api.stage;

import dev.anneal.workflows.api.status.StageStatus;

/** A decision of the stage workflow, for the event log and the stage row. */
public record StageEvent(
    String pipelineId,
    String stageId,
    int position,
    int attempt,
    StageStatus status,
    String severity,
    String message) {}
