package dev.anneal.workflows.api.stage;

/** A decision of the stage workflow, for the event log and the stage row. */
public record StageEvent(
    String pipelineId,
    String stageId,
    int position,
    int attempt,
    String status,
    String severity,
    String message) {}
