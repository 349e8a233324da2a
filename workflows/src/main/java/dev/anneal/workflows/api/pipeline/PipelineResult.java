package dev.anneal.workflows.api.pipeline;

import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.status.PipelineStatus;
import java.util.List;

/** How the pipeline ended, stage by stage; lineage is each stage's final checkpoint. */
public record PipelineResult(PipelineStatus status, List<StageResult> stages, String reason) {}
