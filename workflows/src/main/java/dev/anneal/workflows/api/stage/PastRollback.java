package dev.anneal.workflows.api.stage;

import dev.anneal.protocol.StabilityConfig.BatchWindow;

/**
 * A rollback already made in this stage: where the anomaly was, what was skipped, the LR factor.
 */
public record PastRollback(long anomalyStep, BatchWindow window, double lrFactor) {}
