package dev.anneal.workflows.api.stage;

import java.util.List;

/**
 * Rewrite the model card of the stage at {@code position} (its final checkpoint's {@code hf/}
 * export) from the pipeline's lineage, with the gates decided so far.
 */
public record ModelCardRequest(
    String pipelineId, int position, String finalManifestKey, List<GateOutcome> gates) {}
