package dev.anneal.activities.metadata;

import java.util.UUID;

/** One row of a pipeline's event log (runner events carry their sequence number). */
public record EventRow(
    long id, UUID attemptId, Long runnerSeq, String type, String severity, String message) {}
