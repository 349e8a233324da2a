package dev.anneal.workflows.api.pipeline;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.stage.StageInput;
import java.util.List;
import java.util.Map;

/**
 * A submitted pipeline: its spec, the rows the platform made for it (one stage id a stage), and the
 * registered models its stages start from ({@code model:<name>[@v<n>]} → the model's checkpoint
 * manifest key), resolved by the platform when the pipeline was submitted. {@code resume} is null
 * for a submitted pipeline; a pipeline rebuilt after its workflow was lost goes on from it.
 */
public record PipelineInput(
    String pipelineId,
    String team,
    PipelineSpec spec,
    List<String> stageIds,
    long restartBackoffSeconds,
    Map<String, String> models,
    PipelineResume resume) {

  public PipelineInput {
    models = models == null ? Map.of() : Map.copyOf(models);
  }

  public PipelineInput(
      String pipelineId,
      String team,
      PipelineSpec spec,
      List<String> stageIds,
      long restartBackoffSeconds,
      Map<String, String> models) {
    this(pipelineId, team, spec, stageIds, restartBackoffSeconds, models, null);
  }

  public PipelineInput(
      String pipelineId,
      String team,
      PipelineSpec spec,
      List<String> stageIds,
      long restartBackoffSeconds) {
    this(pipelineId, team, spec, stageIds, restartBackoffSeconds, Map.of(), null);
  }

  /** The same pipeline, going on from {@code from}. */
  public PipelineInput resumedFrom(PipelineResume from) {
    return new PipelineInput(pipelineId, team, spec, stageIds, restartBackoffSeconds, models, from);
  }

  /**
   * The first run of the stage at {@code position}: it starts from {@code initFrom} (null: from
   * scratch) and, for RLHF, scores with the reward model at {@code rewardFrom} (null otherwise).
   */
  public StageInput stage(int position, CheckpointRef initFrom, CheckpointRef rewardFrom) {
    return new StageInput(
        pipelineId,
        stageIds.get(position),
        team,
        spec,
        position,
        initFrom,
        restartBackoffSeconds,
        0,
        null,
        rewardFrom);
  }
}
