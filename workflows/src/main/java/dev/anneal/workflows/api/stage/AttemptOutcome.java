package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.RunnerEvent;
import java.util.List;
import java.util.Map;

/**
 * How an attempt ended: the runner's exit code (null if the job was lost), its instability report
 * if any, the stage's committed checkpoints as the planner sees them, the last step reached, and
 * the runner's summary figures of a finished run ({@code final_loss}, eval figures, …).
 */
public record AttemptOutcome(
    Integer exitCode,
    String reason,
    RunnerEvent.Instability instability,
    List<CheckpointCandidate> checkpoints,
    long lastStep,
    String finalManifestKey,
    Map<String, Double> summary) {
  public AttemptOutcome {
    checkpoints = checkpoints == null ? List.of() : List.copyOf(checkpoints);
    summary = summary == null ? Map.of() : Map.copyOf(summary);
  }
}
