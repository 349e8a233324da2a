package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.StabilityPolicy;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.StageSpec;

/**
 * What a stage workflow runs: the pipeline's spec and the position of the stage in it, the rows the
 * platform made for it, and where it starts from (the parent stage's final checkpoint, or nothing
 * for pre-training from scratch). {@code attemptsPerRun} bounds the attempts of one workflow run
 * before it continues as new (0: the default); {@code carry} is what a previous run handed over
 * (null on the first run). An RLHF stage also gets the reward stage's final checkpoint ({@code
 * rewardFrom}).
 */
public record StageInput(
    String pipelineId,
    String stageId,
    String team,
    PipelineSpec spec,
    int position,
    CheckpointRef initFrom,
    long restartBackoffSeconds,
    int attemptsPerRun,
    StageCarry carry,
    CheckpointRef rewardFrom) {

  public static final int DEFAULT_ATTEMPTS_PER_RUN = 20;

  public StageInput {
    attemptsPerRun = attemptsPerRun <= 0 ? DEFAULT_ATTEMPTS_PER_RUN : attemptsPerRun;
  }

  public StageInput withCarry(StageCarry next) {
    return with(next, rewardFrom);
  }

  private StageInput with(StageCarry c, CheckpointRef reward) {
    return new StageInput(
        pipelineId,
        stageId,
        team,
        spec,
        position,
        initFrom,
        restartBackoffSeconds,
        attemptsPerRun,
        c,
        reward);
  }

  public StageSpec stage() {
    return spec.stages().get(position);
  }

  public StageKind kind() {
    return stage().kind();
  }

  public StabilityPolicy policy() {
    return stage().stability().policy();
  }

  /** The key segment of this pipeline run in the store ({@code <name>-<8 hex of its id>}). */
  public String pipelineKey() {
    return dev.anneal.protocol.ObjectKeys.pipelineRun(pipelineName(), pipelineId);
  }

  public String pipelineName() {
    return spec.metadata().name();
  }
}
