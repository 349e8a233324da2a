package dev.anneal.runner.train;

import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointWriter;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.stability.InstabilityDetector;
import java.time.Instant;
import java.util.function.Supplier;

/** What every trainer's loop does the same way: checkpoints, fault injection, instabilities. */
public final class TrainingRuns {
  private TrainingRuns() {}

  /** The attempt's checkpoint writer, announcing each commit as an event. */
  public static CheckpointWriter writer(
      RunSpec spec, BlobStore store, EventLog events, boolean async) {
    return new CheckpointWriter(
        store,
        spec.team(),
        spec.pipeline(),
        spec.stage(),
        spec.attempt(),
        spec.checkpoint(),
        async,
        c ->
            events.emit(
                s ->
                    new RunnerEvent.CheckpointCommitted(
                        s, Instant.now(), c.step(), c.manifestKey(), c.manifestSha256())));
  }

  /** Waits for pending checkpoints, reports the instability; returns the newest checkpoint. */
  public static CheckpointWriter.Committed reportInstability(
      CheckpointWriter writer, EventLog events, InstabilityDetector.Trigger t) {
    CheckpointWriter.Committed newest = writer.flush();
    String healthy = newest == null ? "none written by this attempt" : newest.manifestKey();
    events.emit(
        s ->
            new RunnerEvent.Instability(
                s,
                Instant.now(),
                t.step(),
                t.kind(),
                t.value(),
                t.threshold(),
                t.firstBatch(),
                t.lastBatch(),
                t.message() + "; newest checkpoint: " + healthy));
    return newest;
  }

  /** A committed checkpoint of {@code step}: the pending one, or a new one. */
  public static CheckpointWriter.Committed checkpointNow(
      CheckpointWriter writer, long step, Supplier<DeviceSnapshot> capture) {
    CheckpointWriter.Committed newest = writer.flush();
    if (newest == null || newest.step() != step) {
      writer.submit(capture.get());
      newest = writer.flush();
    }
    return newest;
  }
}
