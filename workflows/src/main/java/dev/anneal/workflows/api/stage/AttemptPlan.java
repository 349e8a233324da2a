package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.StabilityConfig.BatchWindow;
import java.util.List;

/**
 * How the next attempt starts, and of which stage ({@link StageRef}, not the whole spec): number,
 * why, from which checkpoint (and the attempt that wrote it, null when it starts from the beginning
 * or in histories recorded before it was carried), skipping what, at which LR.
 */
public record AttemptPlan(
    StageRef stage,
    int attempt,
    String cause,
    CheckpointRef resumeFrom,
    List<BatchWindow> skipWindows,
    double lrFactor,
    Integer resumeAttempt) {}
