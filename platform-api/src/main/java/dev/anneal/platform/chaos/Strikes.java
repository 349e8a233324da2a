package dev.anneal.platform.chaos;

import dev.anneal.protocol.FaultInjection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/** How each fault kind is struck on the running stack; each returns a line saying what it did. */
final class Strikes {

  private final ServeProcess serve;
  private final TcpGate s3Gate;
  private final Runners runners;
  private final Path dataDir;
  private final Path logs;
  private final String api;
  private final Duration s3Outage;
  private final java.util.Set<Path> corrupted = new java.util.LinkedHashSet<>();

  Strikes(
      ServeProcess serve,
      TcpGate s3Gate,
      Runners runners,
      Path dataDir,
      Path logs,
      String api,
      Duration s3Outage) {
    this.serve = serve;
    this.s3Gate = s3Gate;
    this.runners = runners;
    this.dataDir = dataDir;
    this.logs = logs;
    this.api = api;
    this.s3Outage = s3Outage;
  }

  String strike(FaultKind kind) throws Exception {
    return switch (kind) {
      case RUNNER_KILL -> {
        Path job = awaitRunner();
        runners.process(job).ifPresent(ProcessHandle::destroyForcibly);
        yield "killed the runner of " + job.getFileName();
      }
      case PLATFORM_KILL -> {
        serve.kill();
        serve.start(api, Duration.ofMinutes(3));
        yield "killed anneal serve; start " + serve.starts() + " answered";
      }
      case WORKER_RESTART -> {
        serve.stop();
        serve.start(api, Duration.ofMinutes(3));
        yield "stopped anneal serve with SIGTERM; start " + serve.starts() + " answered";
      }
      case S3_OUTAGE -> {
        s3Gate.cut();
        Thread.sleep(s3Outage.toMillis());
        s3Gate.restore();
        yield "S3 cut off for " + s3Outage.toSeconds() + " s";
      }
      case POSTGRES_RESTART -> {
        PostgresBounce.restart(
            dataDir.resolve("postgres"),
            logs.resolve("postgres-restarts.log"),
            Duration.ofSeconds(5));
        yield "PostgreSQL stopped (fast), down 5 s, started again";
      }
      case CORRUPT_CHECKPOINT -> {
        Path job = awaitRunner();
        runners
            .process(job)
            .ifPresent(
                h -> {
                  h.destroyForcibly();
                  h.onExit().join();
                });
        yield corruptNewest()
            .map(p -> "killed the runner, then corrupted " + p)
            .orElse("killed the runner; no committed checkpoint to corrupt yet");
      }
      case SPIKE -> demand(FaultInjection.SPIKE_FILE);
      case NAN -> demand(FaultInjection.NAN_FILE);
    };
  }

  /** The manifests whose checkpoints this benchmark corrupted. */
  java.util.Set<Path> corrupted() {
    return corrupted;
  }

  /** The live runner, waiting for one if the stage is between attempts. */
  private Path awaitRunner() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (System.nanoTime() < deadline) {
      Optional<Path> live = runners.live();
      if (live.isPresent()) return live.get();
      Thread.sleep(100);
    }
    throw new IllegalStateException("no runner alive for 3 minutes");
  }

  /** Drops the on-demand file into the live runner's folder and waits until a runner takes it. */
  private String demand(String file) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (System.nanoTime() < deadline) {
      Path job = awaitRunner();
      Path f = job.resolve(file);
      Files.writeString(f, "chaos");
      long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < until && Files.exists(f)) Thread.sleep(20);
      if (!Files.exists(f)) return "the runner of " + job.getFileName() + " took " + file;
      Files.deleteIfExists(f); // that runner is gone: give it to the next one
    }
    throw new IllegalStateException("no runner took " + file + " for 3 minutes");
  }

  /**
   * Overwrites half the bytes of the newest committed checkpoint's weights with garbage of the same
   * size, in the embedded S3 server's files (so only the sha256 tells).
   */
  private Optional<Path> corruptNewest() throws IOException {
    Path s3 = dataDir.resolve("s3");
    Optional<Path> manifest;
    try (Stream<Path> files = Files.walk(s3)) {
      manifest =
          files
              .filter(p -> p.getFileName().toString().equals("manifest.json"))
              .filter(p -> p.getParent().getFileName().toString().startsWith("step-"))
              .filter(p -> !corrupted.contains(p))
              .max(Comparator.comparing(Strikes::written));
    }
    if (manifest.isEmpty()) return Optional.empty();
    Path weights = manifest.get().resolveSibling("model.safetensors");
    if (!Files.exists(weights)) return Optional.empty();
    byte[] bytes = Files.readAllBytes(weights);
    for (int i = bytes.length / 2; i < bytes.length; i += 7) bytes[i] ^= 0x5A;
    Files.write(weights, bytes);
    corrupted.add(manifest.get());
    return Optional.of(s3.relativize(weights));
  }

  /**
   * When a manifest was written: the newest is the killed runner's last commit, the one its restart
   * resumes from (the highest step may be on a branch a rollback abandoned).
   */
  private static long written(Path manifest) {
    try {
      return Files.getLastModifiedTime(manifest).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }
}
