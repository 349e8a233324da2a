package dev.anneal.runner.exec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.CheckpointSnapshot;
import dev.anneal.runner.ckpt.CheckpointWriter;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.stability.InstabilityDetector;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.train.TrainingRuns;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code anneal-runner exec}: a training program that is not Anneal's own, run as a stage attempt.
 * The wrapper gives the program the engine contract's environment (docs/engines.md), starts its
 * ranks, turns its metrics lines into the protocol's events, runs the same instability detector the
 * built-in engine runs and stops the program on a trigger, imports each checkpoint directory the
 * program commits into the store with a manifest, sha256s and health figures (so the catalog and
 * the rollback planner treat it like any other), and maps how the program ended to the protocol's
 * exit codes, with a reason. The workflows do not know the difference.
 */
public final class ExecRun {

  /**
   * @param command the program and its arguments, run once a rank
   * @param ranks how many ranks on this node
   * @param rendezvous the nodes of the run and this one's place among them
   * @param workDir where the spec, metrics, checkpoints and rank logs go
   * @param tokens the token set the program trains on (null: encode the RunSpec's dataset)
   * @param env what the program's environment adds to the contract's (the reference engine's
   *     PYTHONPATH, say)
   * @param stallMillis how long the ranks may run without a new metrics line before they are taken
   *     for hung
   * @param sidecar the ranks are started by an engine container beside this one ({@link
   *     SidecarRanks}), not as this process's children
   */
  public record Options(
      List<String> command,
      int ranks,
      Rendezvous rendezvous,
      Path workDir,
      Path tokens,
      Map<String, String> env,
      long pollMillis,
      long graceMillis,
      long stallMillis,
      boolean sidecar) {}

  /**
   * Where the ranks of a run meet: {@code nodes} machines (pods) of the same rank count, this one
   * {@code nodeRank}; the master (global rank 0, on node 0) listens on {@code host:port}. Node 0 is
   * the leader: it reports the metrics, runs the detector, imports the checkpoints and decides how
   * the attempt ends; the others only run their ranks and end with them.
   */
  public record Rendezvous(int nodes, int nodeRank, String host, int port) {
    public Rendezvous {
      if (nodes < 1) throw new IllegalArgumentException("nodes: at least 1, got " + nodes);
      if (nodeRank < 0 || nodeRank >= nodes) {
        throw new IllegalArgumentException(
            "node-rank: between 0 and " + (nodes - 1) + ", got " + nodeRank);
      }
      if (nodes > 1 && (host == null || port <= 0)) {
        throw new IllegalArgumentException(
            "master: a run on " + nodes + " nodes names its master as HOST:PORT");
      }
    }

    /** One machine: the master on loopback, at a free port. */
    public static Rendezvous single() {
      return new Rendezvous(1, 0, "127.0.0.1", 0);
    }

    boolean leader() {
      return nodeRank == 0;
    }
  }

  private final RunSpec spec;
  private final BlobStore store;
  private final EventLog events;
  private final Options o;
  private final InstabilityDetector detector;
  private final CheckpointImport imports;
  private final AtomicBoolean stopRequested = new AtomicBoolean();

  /**
   * The metrics lines not yet behind a stored checkpoint, by step (older ones are dropped as
   * checkpoints are imported, so memory does not grow with the run).
   */
  private final TreeMap<Long, JsonNode> steps = new TreeMap<>();

  /** The newest step reported, and the tokens trained through it, this attempt's and before. */
  private long lastStep = -1;

  private long tokensTrained;

  /** This attempt's tokens and step time, as the engine timed its steps. */
  private long attemptTokens;

  private double attemptMillis;

  private Tokenizer tokenizer;

  private ExecRun(RunSpec spec, BlobStore store, EventLog events, Options o) {
    this.spec = spec;
    this.store = store;
    this.events = events;
    this.o = o;
    this.detector = new InstabilityDetector(spec.stability());
    this.imports = new CheckpointImport(spec, o.workDir().resolve("checkpoints"));
  }

  /** Runs the attempt; returns its exit code (the protocol's), every outcome reported as events. */
  public static int run(RunSpec spec, BlobStore store, EventLog events, Options o)
      throws IOException {
    return run(spec, store, events, o, new AtomicReference<>());
  }

  /**
   * As {@link #run(RunSpec, BlobStore, EventLog, Options)}, and sets {@code stopper} to what stops
   * the attempt (the runner's SIGTERM hook): the ranks get SIGTERM, commit a checkpoint and exit,
   * the checkpoint is stored, and the attempt ends preempted.
   */
  public static int run(
      RunSpec spec, BlobStore store, EventLog events, Options o, AtomicReference<Runnable> stopper)
      throws IOException {
    ExecRun r = new ExecRun(spec, store, events, o);
    stopper.set(() -> r.stopRequested.set(true));
    if (!o.sidecar()) return r.run();
    try (SidecarRanks.Presence presence = SidecarRanks.presence(o.workDir())) {
      return r.run();
    }
  }

  private int run() throws IOException {
    Path work = Files.createDirectories(o.workDir());
    Path specFile = work.resolve("run-spec.json");
    Files.writeString(specFile, ProtocolJson.write(spec));
    Map<String, String> env = new HashMap<>();
    env.put("ANNEAL_RUN_SPEC", specFile.toString());
    env.put("ANNEAL_CHECKPOINT_DIR", Files.createDirectories(imports.dir()).toString());
    env.put("ANNEAL_METRICS_FILE", work.resolve("metrics.jsonl").toString());
    CheckpointReader.Loaded resumed = null;
    if (spec.resumeFrom() != null) {
      try {
        resumed = CheckpointReader.load(store, spec.resumeFrom().manifestKey());
        env.put("ANNEAL_RESUME_FROM", imports.unpack(resumed, work.resolve("resume")).toString());
        if (resumed.state().detector() != null) detector.restore(resumed.state().detector());
        tokensTrained = resumed.state().tokensSeen();
        imports.tokensBefore = tokensTrained;
      } catch (CheckpointException e) {
        return failed(ExitCode.CORRUPT_CHECKPOINT, "resume checkpoint: " + e.getMessage());
      }
    }
    try {
      EngineInputs.Ready ready = EngineInputs.prepare(spec, store, work, o.tokens(), resumed);
      env.putAll(ready.env());
      tokenizer = ready.tokenizer();
      events.log("INFO", "exec: " + ready.note());
    } catch (EngineInputs.Refused e) {
      return failed(e.code, e.getMessage());
    }
    // one rank a core unless told otherwise: torch's and OpenBLAS's threads would oversubscribe
    String threads =
        Integer.toString(Math.max(1, Runtime.getRuntime().availableProcessors() / o.ranks()));
    for (String v : new String[] {"ANNEAL_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
      if (System.getenv(v) == null) env.put(v, threads);
    }
    env.putAll(o.env());
    Rendezvous rv = o.rendezvous();
    events.log(
        "INFO",
        String.format(
            "exec: %d rank(s) of %s on node %d of %d (engine contract, docs/engines.md)",
            o.ranks(), String.join(" ", o.command()), rv.nodeRank(), rv.nodes()));
    MetricsTail tail = new MetricsTail(work.resolve("metrics.jsonl"));
    RankGroup started;
    try {
      if (rv.port() <= 0) rv = new Rendezvous(1, 0, rv.host(), freePort());
      started =
          o.sidecar()
              ? SidecarRanks.start(o.command(), o.ranks(), rv, work, env, work.resolve("logs"))
              : Ranks.start(o.command(), o.ranks(), rv, work, env, work.resolve("logs"));
    } catch (IOException e) {
      return failed(ExitCode.INVALID_SPEC, "cannot start the engine: " + e.getMessage());
    }
    if (!rv.leader()) {
      try (RankGroup ranks = started) {
        return follow(ranks, work);
      }
    }
    try (CheckpointWriter writer = TrainingRuns.writer(spec, store, events, false);
        RankGroup ranks = started) {
      long lastProgress = System.nanoTime();
      while (true) {
        boolean ended = ranks.ended();
        // progress is a new step, not the line count (imports drop lines behind a checkpoint)
        long seen = lastStep;
        try {
          for (JsonNode line : tail.poll()) {
            Optional<InstabilityDetector.Trigger> t = observe(line);
            if (t.isPresent()) {
              // killed, not asked to stop: a checkpoint written now would hold the bad steps
              ranks.kill();
              importCommitted(writer, t.get().step());
              TrainingRuns.reportInstability(writer, events, t.get());
              return ExitCode.INSTABILITY.code();
            }
          }
          importCommitted(writer, Long.MAX_VALUE);
        } catch (MetricsTail.MalformedMetrics | CheckpointImport.BadCheckpoint e) {
          ranks.stop(o.graceMillis());
          return failed(ExitCode.CRASH, "the engine broke the contract: " + e.getMessage());
        } catch (CheckpointException e) {
          ranks.stop(o.graceMillis());
          return failed(ExitCode.CRASH, "a checkpoint could not be stored: " + e.getMessage());
        }
        if (lastStep > seen) lastProgress = System.nanoTime();
        if (stopRequested.get()) {
          ranks.stop(o.graceMillis()); // SIGTERM: each rank commits a checkpoint, then exits
          importCommitted(writer, Long.MAX_VALUE);
          writer.flush();
          events.log("WARN", "exec: asked to stop; the ranks checkpointed and exited");
          return ExitCode.PREEMPTED.code();
        }
        Optional<RankGroup.Failure> bad = ranks.firstFailure();
        if (bad.isPresent()) {
          ranks.stop(o.graceMillis());
          return failed(
              ExecEnds.codeOf(bad.get().exit()),
              bad.get().describe() + ExecEnds.logTail(work, bad.get().rank()));
        }
        if (ended) return finish(writer);
        if ((System.nanoTime() - lastProgress) / 1_000_000 > o.stallMillis()) {
          ranks.stop(o.graceMillis());
          return failed(
              ExitCode.CRASH,
              "no metrics line for " + o.stallMillis() / 1000 + " s: a rank hangs; stopped");
        }
        sleep(o.pollMillis());
      }
    }
  }

  /**
   * A follower node: its ranks run until they end or the wrapper is asked to stop; it reports
   * nothing but log lines (the leader reports the attempt), and ends with its ranks' code.
   */
  private int follow(RankGroup ranks, Path work) {
    while (!ranks.ended()) {
      if (stopRequested.get()) {
        ranks.stop(o.graceMillis());
        events.log("WARN", "exec: asked to stop; this node's ranks exited");
        return ExitCode.PREEMPTED.code();
      }
      Optional<RankGroup.Failure> bad = ranks.firstFailure();
      if (bad.isPresent()) break;
      sleep(o.pollMillis());
    }
    Optional<RankGroup.Failure> bad = ranks.firstFailure();
    if (bad.isEmpty()) {
      events.log("INFO", "exec: node " + o.rendezvous().nodeRank() + ": every rank ended well");
      return ExitCode.SUCCESS.code();
    }
    ranks.stop(o.graceMillis());
    String reason =
        "node "
            + o.rendezvous().nodeRank()
            + ": "
            + bad.get().describe()
            + ExecEnds.logTail(work, bad.get().rank() % o.ranks());
    events.log("ERROR", "exec: " + reason);
    return ExecEnds.codeOf(bad.get().exit()).code();
  }

  /** A metrics line: an event, and the detector's judgement of a step line. */
  private Optional<InstabilityDetector.Trigger> observe(JsonNode line) {
    if (line.has("summary")) return Optional.empty();
    for (String f : new String[] {"step", "data_batch", "loss", "grad_norm"}) {
      if (!line.hasNonNull(f)) {
        throw new MetricsTail.MalformedMetrics("a metrics line has no " + f + ": " + line);
      }
    }
    long step = line.get("step").asLong();
    if (step > lastStep) {
      tokensTrained += line.path("tokens").asLong();
      lastStep = step;
    }
    steps.put(step, ((ObjectNode) line.deepCopy()).put(TOKENS_THROUGH, tokensTrained));
    Map<String, Double> values = new LinkedHashMap<>();
    line.fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isNumber() && !e.getKey().equals("step")) {
                values.put(e.getKey(), e.getValue().asDouble());
              }
            });
    double ms = line.path("step_ms").asDouble(0);
    long tokens = line.path("tokens").asLong(0);
    if (ms > 0 && tokens > 0) {
      // the console's and the built-in engine's throughput figure, from the engine's own timing
      values.put("tokens_per_s", tokens * 1000.0 / ms);
      attemptTokens += tokens;
      attemptMillis += ms;
    }
    events.metrics(step, values);
    return detector.observe(
        step,
        line.get("data_batch").asLong(),
        line.get("loss").asDouble(),
        line.get("grad_norm").asDouble());
  }

  /**
   * Imports the checkpoint directories committed since the last call, oldest first, up to {@code
   * maxStep}: after an instability, those the engine wrote past the step that triggered it are left
   * out of the catalog.
   */
  private void importCommitted(CheckpointWriter writer, long maxStep) throws IOException {
    for (Path dir : imports.newlyCommitted()) {
      CheckpointSnapshot c = imports.snapshot(dir, steps, detector);
      if (c.step() <= maxStep) {
        writer.commit(c);
        finalDir = dir;
        // the lines behind this checkpoint are no longer needed: keep the one its health reads
        Long keep = steps.floorKey(c.step() - 1);
        if (keep != null) steps.headMap(keep).clear();
      } else {
        events.log("WARN", "exec: " + dir.getFileName() + " is past the instability; not kept");
      }
    }
  }

  /** The newest directory imported into the store. */
  private Path finalDir;

  /** Each step line's running token total, this attempt's and those before it. */
  static final String TOKENS_THROUGH = "anneal_tokens_through";

  /** Every rank ended well: the final checkpoint must be there, then the stage is finished. */
  private int finish(CheckpointWriter writer) throws IOException {
    importCommitted(writer, Long.MAX_VALUE);
    long total = spec.training().steps();
    CheckpointWriter.Committed last = writer.flush();
    if (last == null || last.step() != total) {
      return failed(
          ExitCode.CRASH,
          "the engine exited 0 without its final checkpoint (step "
              + total
              + "; newest: "
              + (last == null ? "none" : "step " + last.step())
              + ")");
    }
    Map<String, Double> summary = new LinkedHashMap<>();
    JsonNode final_ = steps.isEmpty() ? null : steps.lastEntry().getValue();
    if (final_ != null) summary.put("final_loss", final_.get("loss").asDouble());
    summary.put("ranks", (double) o.ranks());
    summary.put("steps", (double) total);
    if (attemptMillis > 0) summary.put("tokens_per_s", attemptTokens * 1000.0 / attemptMillis);
    ExecEnds.exportHuggingFace(
        spec, store, events, tokenizer, finalDir, last.manifestKey(), total, summary);
    events.emit(
        s -> new RunnerEvent.Finished(s, Instant.now(), total, last.manifestKey(), summary));
    return ExitCode.SUCCESS.code();
  }

  private int failed(ExitCode code, String reason) {
    events.log("ERROR", "exec: " + reason);
    events.emit(s -> new RunnerEvent.Failed(s, Instant.now(), code.code(), reason));
    return code.code();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
