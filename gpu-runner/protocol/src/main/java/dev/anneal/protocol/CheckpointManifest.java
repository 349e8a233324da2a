package dev.anneal.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The last object written for a checkpoint: its presence means every listed file is complete.
 * Readers verify each file's sha256 before trusting it.
 */
public record CheckpointManifest(
    Integer formatVersion,
    String team,
    String pipeline,
    StageKind stage,
    int attempt,
    long step,
    long tokensSeen,
    long batchesConsumed,
    Instant createdAt,
    List<FileEntry> files,
    Health health) {

  public static final int FORMAT_VERSION = 1;

  /** One file of the checkpoint, relative to the checkpoint's prefix. */
  public record FileEntry(String path, String sha256, long bytes) {
    public FileEntry {
      Checks.text("path", path);
      if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException("sha256: must be 64 lower-case hex digits");
      }
      Checks.nonNegative("bytes", bytes);
    }
  }

  /**
   * The health figures at the checkpoint's step, which the rollback planner reads: a checkpoint is
   * healthy when it was not taken inside an anomaly and its loss scale (fp16) had not collapsed.
   * {@code extra} carries stage-specific figures (RLHF's KL and reward).
   */
  public record Health(
      Double loss,
      Double lossEma,
      Double gradNorm,
      Double lossScale,
      Boolean anomalous,
      Map<String, Double> extra) {
    public Health {
      anomalous = Checks.orDefault(anomalous, Boolean.FALSE);
      extra = extra == null ? Map.of() : Map.copyOf(extra);
    }

    public boolean healthy() {
      return !anomalous
          && (loss == null || Double.isFinite(loss))
          && (gradNorm == null || Double.isFinite(gradNorm))
          && (lossScale == null || lossScale >= 1.0);
    }
  }

  public CheckpointManifest {
    formatVersion = Checks.orDefault(formatVersion, FORMAT_VERSION);
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "formatVersion: this build reads version " + FORMAT_VERSION + ", got " + formatVersion);
    }
    ObjectKeys.segment("team", team);
    ObjectKeys.segment("pipeline", pipeline);
    Checks.present("stage", stage);
    Checks.positive("attempt", attempt);
    Checks.nonNegative("step", step);
    Checks.nonNegative("tokensSeen", tokensSeen);
    Checks.nonNegative("batchesConsumed", batchesConsumed);
    Checks.present("createdAt", createdAt);
    files = List.copyOf(Checks.present("files", files));
    if (files.isEmpty()) {
      throw new IllegalArgumentException("files: a checkpoint has at least one file");
    }
    health = Checks.orDefault(health, new Health(null, null, null, null, null, null));
  }

  public long totalBytes() {
    return files.stream().mapToLong(FileEntry::bytes).sum();
  }
}
