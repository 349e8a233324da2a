package dev.anneal.workflows.api.pipeline;

import dev.anneal.workflows.api.stage.StageCarry;
import dev.anneal.workflows.api.stage.StageResult;
import java.util.List;

/**
 * Where a pipeline rebuilt from PostgreSQL goes on, after its workflow was lost (the embedded
 * Temporal server keeps workflows in memory, so a killed platform loses them): the stages already
 * done, in order, with their results; whether the gate after the last of them is still to decide
 * (its next stage had not started); how the stage in progress goes on ({@code current}: its
 * attempts so far and the one to run or re-attach to, or null to start it afresh); and whether a
 * person had paused the pipeline.
 */
public record PipelineResume(
    List<StageResult> done, boolean gatePending, StageCarry current, boolean paused) {
  public PipelineResume {
    done = done == null ? List.of() : List.copyOf(done);
  }
}
