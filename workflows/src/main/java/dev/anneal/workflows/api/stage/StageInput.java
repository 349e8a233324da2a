package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.StabilityPolicy;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.StageSpec;

/**
 * What a stage workflow runs: the pipeline's spec and the position of the stage in it, the rows the
 * platform made for it, and where it starts from (the parent stage's final checkpoint, or nothing
 * for pre-training from scratch).
 */
public record StageInput(
    String pipelineId,
    String stageId,
    String team,
    PipelineSpec spec,
    int position,
    CheckpointRef initFrom,
    long restartBackoffSeconds) {

  public StageSpec stage() {
    return spec.stages().get(position);
  }

  public StageKind kind() {
    return stage().kind();
  }

  public StabilityPolicy policy() {
    return stage().stability().policy();
  }

  public String pipelineName() {
    return spec.metadata().name();
  }
}
