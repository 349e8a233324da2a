package dev.anneal.workflows.api.pipeline;

import dev.anneal.workflows.api.spec.PipelineSpec;
import java.util.List;
import java.util.Map;

/**
 * A submitted pipeline: its spec, the rows the platform made for it (one stage id a stage), and the
 * registered models its stages start from ({@code model:<name>[@v<n>]} → the model's checkpoint
 * manifest key), resolved by the platform when the pipeline was submitted.
 */
public record PipelineInput(
    String pipelineId,
    String team,
    PipelineSpec spec,
    List<String> stageIds,
    long restartBackoffSeconds,
    Map<String, String> models) {

  public PipelineInput {
    models = models == null ? Map.of() : Map.copyOf(models);
  }

  public PipelineInput(
      String pipelineId,
      String team,
      PipelineSpec spec,
      List<String> stageIds,
      long restartBackoffSeconds) {
    this(pipelineId, team, spec, stageIds, restartBackoffSeconds, Map.of());
  }
}
