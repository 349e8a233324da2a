package dev.anneal.workflows.api.stage;

/** A committed checkpoint as the rollback planner sees it: step, data cursor, manifest, health. */
public record CheckpointCandidate(
    long step, long batchesConsumed, String manifestKey, boolean healthy) {}
