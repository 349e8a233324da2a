package dev.anneal.activities.metadata;

import dev.anneal.protocol.StageKind;
import java.util.UUID;

/** Where an attempt belongs, for checking that a batch is addressed to it. */
public record AttemptRef(
    UUID attemptId,
    UUID stageId,
    UUID pipelineId,
    String team,
    // the run's key segment, as in its RunSpec: <name>-<8 hex of the pipeline id>
    String pipelineName,
    StageKind stage,
    int number) {}
