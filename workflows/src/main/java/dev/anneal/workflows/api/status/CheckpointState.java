package dev.anneal.workflows.api.status;

/**
 * A checkpoint's state in the catalog: the {@code checkpoints.state} column (its CHECK constraint
 * lists exactly these). COMMITTED when the runner reports it, DELETED once its files are gone (the
 * runner's retention).
 */
public enum CheckpointState {
  COMMITTED,
  VERIFIED,
  CORRUPT,
  DELETED
}
