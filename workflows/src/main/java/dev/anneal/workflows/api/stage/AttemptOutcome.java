package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.RunnerEvent;
import java.util.List;

/**
 * How an attempt ended: the runner's exit code (null if the job was lost), its instability report
 * if any, the stage's committed checkpoints as the planner sees them, and the last step reached.
 */
public record AttemptOutcome(
    Integer exitCode,
    String reason,
    RunnerEvent.Instability instability,
    List<CheckpointCandidate> checkpoints,
    long lastStep,
    String finalManifestKey) {}
