package dev.anneal.activities.metadata;

import dev.anneal.workflows.api.status.CheckpointState;
import java.util.UUID;

/**
 * Writes of the {@code checkpoints} table after ingestion made a row: what the manifest says (read
 * once, when someone first looks), and the end of a checkpoint's files.
 */
public final class CheckpointCatalogWriter {
  private final Sql sql;

  CheckpointCatalogWriter(Sql sql) {
    this.sql = sql;
  }

  /** The checkpoint's size and health figures (JSON), from its manifest. */
  public void setFiles(UUID checkpoint, long bytes, String healthJson) {
    sql.update(
        "UPDATE checkpoints SET bytes = ?, health = ?::jsonb WHERE id = ?",
        bytes,
        healthJson,
        checkpoint);
  }

  /** Its manifest is gone (the runner's retention removed it). */
  public void markDeleted(UUID checkpoint) {
    sql.update(
        "UPDATE checkpoints SET state = ? WHERE id = ?", CheckpointState.DELETED, checkpoint);
  }
}
