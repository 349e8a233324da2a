package dev.anneal.workflows.api.stage;

import java.util.List;

/**
 * The stage's end: SUCCEEDED with its final checkpoint, or FAILED with a reason a person can act
 * on.
 */
public record StageResult(
    String status,
    String finalManifestKey,
    int attempts,
    int rollbacks,
    int restarts,
    String failureReason,
    List<String> decisions) {}
