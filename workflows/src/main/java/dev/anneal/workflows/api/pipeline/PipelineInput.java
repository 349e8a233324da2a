package dev.anneal.workflows.api.pipeline;

import dev.anneal.workflows.api.spec.PipelineSpec;
import java.util.List;

/** A submitted pipeline: its spec, the rows the platform made for it (one stage id a stage). */
public record PipelineInput(
    String pipelineId,
    String team,
    PipelineSpec spec,
    List<String> stageIds,
    long restartBackoffSeconds) {}
