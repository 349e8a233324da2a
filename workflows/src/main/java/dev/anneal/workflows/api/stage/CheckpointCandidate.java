package dev.anneal.workflows.api.stage;

/**
 * A committed checkpoint as the rollback planner sees it: step, data cursor, manifest, health, and
 * the attempt that wrote it (null in histories recorded before it was carried: lineage unknown).
 */
public record CheckpointCandidate(
    long step, long batchesConsumed, String manifestKey, boolean healthy, Integer attempt) {}
