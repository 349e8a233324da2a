package dev.anneal.activities.metadata;

import dev.anneal.workflows.api.status.StageStatus;

/** One stage's progress, for progress displays. */
public record StageSummary(
    int position,
    String kind,
    StageStatus status,
    long currentStep,
    long totalSteps,
    int rollbacks,
    int restarts,
    Double lastLoss,
    String failureReason,
    double wallSeconds,
    String eval,
    Double tokensPerSecond) {}
