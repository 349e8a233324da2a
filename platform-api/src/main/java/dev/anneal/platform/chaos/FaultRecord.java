package dev.anneal.platform.chaos;

import java.time.Instant;

/** One fault struck: its kind, when it began, when the strike was over, and what it did. */
record FaultRecord(FaultKind kind, Instant at, Instant done, String what) {}
