package dev.anneal.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a runner reports while it works. Every event carries a per-attempt sequence number that
 * starts at 1 and has no gaps, so the platform can drop duplicates of a retried batch and notice a
 * lost one.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = RunnerEvent.Metrics.class, name = "metrics"),
  @JsonSubTypes.Type(value = RunnerEvent.CheckpointCommitted.class, name = "checkpoint_committed"),
  @JsonSubTypes.Type(value = RunnerEvent.Instability.class, name = "instability"),
  @JsonSubTypes.Type(value = RunnerEvent.Log.class, name = "log"),
  @JsonSubTypes.Type(value = RunnerEvent.Finished.class, name = "finished"),
  @JsonSubTypes.Type(value = RunnerEvent.Failed.class, name = "failed")
})
public sealed interface RunnerEvent {

  long seq();

  Instant time();

  /** Every event's stamp: a positive sequence number and a time. */
  private static void stamped(long seq, Instant time) {
    Checks.positive("seq", seq);
    Checks.present("time", time);
  }

  /** One measured value at one optimizer step. NaN and infinities are legal values. */
  record MetricPoint(long step, String name, double value) {
    public MetricPoint {
      Checks.nonNegative("step", step);
      Checks.text("name", name);
    }
  }

  record Metrics(long seq, Instant time, List<MetricPoint> points) implements RunnerEvent {
    public Metrics {
      stamped(seq, time);
      points = List.copyOf(Checks.present("points", points));
    }
  }

  record CheckpointCommitted(
      long seq, Instant time, long step, String manifestKey, String manifestSha256)
      implements RunnerEvent {
    public CheckpointCommitted {
      stamped(seq, time);
      Checks.nonNegative("step", step);
      Checks.text("manifestKey", manifestKey);
      Checks.text("manifestSha256", manifestSha256);
    }
  }

  /** The kinds of trouble the runner's instability detector reports. */
  enum InstabilityKind {
    LOSS_SPIKE,
    NON_FINITE_LOSS,
    GRADIENT_EXPLOSION,
    LOSS_SCALE_COLLAPSE,
    KL_BLOWUP,
    REWARD_COLLAPSE,
    REWARD_HACKING,
    LENGTH_COLLAPSE
  }

  /**
   * Training went unstable at {@code step}; the batches {@code [firstBatch, lastBatch]} are the
   * suspects. The runner exits with {@link ExitCode#INSTABILITY} right after sending it.
   */
  record Instability(
      long seq,
      Instant time,
      long step,
      InstabilityKind kind,
      double value,
      double threshold,
      long firstBatch,
      long lastBatch,
      String message)
      implements RunnerEvent {
    public Instability {
      stamped(seq, time);
      Checks.nonNegative("step", step);
      Checks.present("kind", kind);
      Checks.nonNegative("firstBatch", firstBatch);
      if (lastBatch < firstBatch) {
        throw new IllegalArgumentException(
            "lastBatch: must be >= firstBatch (" + firstBatch + "), got " + lastBatch);
      }
      Checks.text("message", message);
    }
  }

  record Log(long seq, Instant time, String level, String message) implements RunnerEvent {
    public Log {
      stamped(seq, time);
      level = Checks.orDefault(level, "INFO");
      Checks.present("message", message);
    }
  }

  record Finished(
      long seq, Instant time, long finalStep, String finalManifestKey, Map<String, Double> summary)
      implements RunnerEvent {
    public Finished {
      stamped(seq, time);
      Checks.nonNegative("finalStep", finalStep);
      Checks.text("finalManifestKey", finalManifestKey);
      summary = summary == null ? Map.of() : Map.copyOf(summary);
    }
  }

  record Failed(long seq, Instant time, int exitCode, String reason) implements RunnerEvent {
    public Failed {
      stamped(seq, time);
      Checks.text("reason", reason);
    }
  }
}
