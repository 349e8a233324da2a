package dev.anneal.runner.ckpt;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.StageKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Commits checkpoints: every file first, the manifest (with each file's sha256) last, so a
 * checkpoint without a manifest does not exist. Asynchronous by default: the training loop hands
 * over host copies and goes on while one background thread serialises and uploads. Keeps the newest
 * {@code keepLast} of this attempt's checkpoints, plus every {@code keepEvery}-th step.
 */
public final class CheckpointWriter implements AutoCloseable {

  /** A committed checkpoint. */
  public record Committed(
      long step, String manifestKey, String manifestSha256, long bytes, double seconds) {}

  private final BlobStore store;
  private final String team;
  private final String pipeline;
  private final StageKind stage;
  private final int attempt;
  private final CheckpointPolicy policy;
  private final Consumer<Committed> onCommit;
  private final ExecutorService executor;
  private final Deque<Future<Committed>> pending = new ArrayDeque<>();
  private final List<Committed> written = new ArrayList<>();

  public CheckpointWriter(
      BlobStore store,
      String team,
      String pipeline,
      StageKind stage,
      int attempt,
      CheckpointPolicy policy,
      boolean async,
      Consumer<Committed> onCommit) {
    this.store = store;
    this.team = team;
    this.pipeline = pipeline;
    this.stage = stage;
    this.attempt = attempt;
    this.policy = policy;
    this.onCommit = onCommit;
    this.executor =
        async
            ? Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "checkpoint-writer");
                  t.setDaemon(true);
                  return t;
                })
            : null;
  }

  /**
   * Queues (async) or writes (sync) a snapshot; rethrows a failure of an earlier write. The copy to
   * host memory happens on the writer's thread too, so the caller only paid for the clone.
   */
  public void submit(DeviceSnapshot snapshot) {
    reap(false);
    if (executor == null) {
      commit(snapshot.toHost());
    } else {
      pending.add(executor.submit(() -> commit(snapshot.toHost())));
    }
  }

  /** Waits for every queued checkpoint; returns the newest committed one, if any. */
  public Committed flush() {
    reap(true);
    synchronized (written) {
      return written.isEmpty() ? null : written.get(written.size() - 1);
    }
  }

  private void reap(boolean wait) {
    while (!pending.isEmpty() && (wait || pending.peek().isDone())) {
      try {
        pending.poll().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CheckpointException("interrupted while writing a checkpoint");
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable c = e.getCause();
        throw c instanceof RuntimeException r ? r : new CheckpointException(String.valueOf(c));
      }
    }
  }

  /** Serialises and writes one checkpoint in the calling thread. */
  public Committed commit(CheckpointSnapshot s) {
    long t0 = System.nanoTime();
    String prefix = ObjectKeys.checkpointPrefix(team, pipeline, stage, s.step(), attempt);
    String manifestKey = prefix + ObjectKeys.MANIFEST;
    if (store.get(manifestKey).isPresent()) {
      throw new CheckpointException(
          store.describe(manifestKey) + " already exists; checkpoints are never overwritten");
    }
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("model.safetensors", SafeTensors.write(s.model(), Map.of("format", "pt")));
    files.put("optimizer.safetensors", SafeTensors.write(s.optimizer(), Map.of()));
    try {
      files.put("trainer-state.json", ProtocolJson.mapper().writeValueAsBytes(s.state()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    s.extraTensors().forEach((name, t) -> files.put(name, SafeTensors.write(t, Map.of())));
    files.putAll(s.extraFiles());
    if (s.tokenizerJson() != null) {
      files.put("tokenizer.json", s.tokenizerJson().getBytes(StandardCharsets.UTF_8));
    }
    List<CheckpointManifest.FileEntry> entries = new ArrayList<>();
    long bytes = 0;
    for (Entry<String, byte[]> f : files.entrySet()) {
      store.put(prefix + f.getKey(), f.getValue());
      entries.add(
          new CheckpointManifest.FileEntry(
              f.getKey(), Checksums.sha256(f.getValue()), f.getValue().length));
      bytes += f.getValue().length;
    }
    CheckpointManifest manifest =
        new CheckpointManifest(
            null,
            team,
            pipeline,
            stage,
            attempt,
            s.step(),
            s.state().tokensSeen(),
            s.state().batchesConsumed(),
            Instant.now(),
            entries,
            s.health());
    byte[] manifestBytes = ProtocolJson.write(manifest).getBytes(StandardCharsets.UTF_8);
    store.put(manifestKey, manifestBytes);
    Committed c =
        new Committed(
            s.step(),
            manifestKey,
            Checksums.sha256(manifestBytes),
            bytes + manifestBytes.length,
            (System.nanoTime() - t0) / 1e9);
    synchronized (written) {
      written.add(c);
    }
    onCommit.accept(c);
    prune();
    return c;
  }

  private void prune() {
    List<Committed> doomed = new ArrayList<>();
    synchronized (written) {
      int keep = policy.keepLast();
      for (int i = 0; i < written.size() - keep; i++) {
        Committed c = written.get(i);
        if (!policy.keepsForever(c.step())) doomed.add(c);
      }
      written.removeAll(doomed);
    }
    for (Committed c : doomed) {
      // the manifest goes first: from then on the checkpoint does not exist
      store.delete(c.manifestKey());
      String prefix =
          c.manifestKey().substring(0, c.manifestKey().length() - ObjectKeys.MANIFEST.length());
      for (String key : store.list(prefix)) store.delete(key);
    }
  }

  @Override
  public void close() {
    try {
      flush();
    } finally {
      if (executor != null) executor.shutdownNow();
    }
  }
}
