package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.StabilityConfig.BatchWindow;
import java.util.List;

/** How the next attempt starts: number, why, from which checkpoint, skipping what, at which LR. */
public record AttemptPlan(
    StageInput stage,
    int attempt,
    String cause,
    CheckpointRef resumeFrom,
    List<BatchWindow> skipWindows,
    double lrFactor) {}
