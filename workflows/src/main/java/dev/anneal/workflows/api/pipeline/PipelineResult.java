package dev.anneal.workflows.api.pipeline;

import dev.anneal.workflows.api.stage.StageResult;
import java.util.List;

/** How the pipeline ended, stage by stage; lineage is each stage's final checkpoint. */
public record PipelineResult(String status, List<StageResult> stages, String reason) {}
