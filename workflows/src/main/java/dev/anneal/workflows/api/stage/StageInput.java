package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.StabilityPolicy;

/**
 * What a stage workflow runs: which stage of which pipeline, where it starts from (the parent
 * stage's final checkpoint, or nothing for pre-training from scratch), and its stability policy.
 */
public record StageInput(
    String pipelineId,
    String team,
    String pipelineName,
    int position,
    StageKind kind,
    long totalSteps,
    CheckpointRef initFrom,
    StabilityPolicy policy,
    long restartBackoffSeconds) {}
