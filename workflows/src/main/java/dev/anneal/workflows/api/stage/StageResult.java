package dev.anneal.workflows.api.stage;

import dev.anneal.workflows.api.status.StageStatus;
import java.util.List;
import java.util.Map;

/**
 * The stage's end: SUCCEEDED with its final checkpoint and summary figures, FAILED with a reason a
 * person can act on, or CANCELLED (its job stopped).
 */
public record StageResult(
    StageStatus status,
    String finalManifestKey,
    int attempts,
    int rollbacks,
    int restarts,
    String failureReason,
    List<String> decisions,
    Map<String, Double> metrics) {
  public StageResult {
    decisions = decisions == null ? List.of() : List.copyOf(decisions);
    metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
  }
}
