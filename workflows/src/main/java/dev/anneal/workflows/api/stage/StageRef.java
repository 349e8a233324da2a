package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.ObjectKeys;

/**
 * Which stage an attempt belongs to, small enough to travel with every attempt's plan: the rows the
 * platform made for it, its team, where in the pipeline it stands and where it starts from. The
 * pipeline's spec is not in it: the prepare activity reads the spec the pipeline was submitted with
 * from PostgreSQL ({@code pipelines.spec}), so histories do not carry it once per attempt.
 */
public record StageRef(
    String pipelineId,
    String stageId,
    String team,
    String pipelineName,
    int position,
    CheckpointRef initFrom,
    CheckpointRef rewardFrom) {

  public static StageRef of(StageInput in) {
    return new StageRef(
        in.pipelineId(),
        in.stageId(),
        in.team(),
        in.pipelineName(),
        in.position(),
        in.initFrom(),
        in.rewardFrom());
  }

  /** The key segment of this pipeline run in the store ({@code <name>-<8 hex of its id>}). */
  public String pipelineKey() {
    return ObjectKeys.pipelineRun(pipelineName, pipelineId);
  }
}
