package dev.anneal.platform.chaos;

import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.Sha256;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** The chaos run's figures: effective training time, each fault kind's cost, integrity. */
final class ChaosReport {

  /** Meta's Llama 3 405B pre-training: 466 job interruptions in 54 days. */
  static final double LLAMA3_MTBF_S = 54 * 86_400.0 / 466;

  /** ByteRobust's effective training time ratio over a three-month job on 9,600 GPUs. */
  static final double BYTEROBUST_ETTR = 0.97;

  /** The embedded stack's bucket (anneal.embedded.bucket, not changed by the benchmark). */
  private static final String BUCKET = "anneal";

  private final RunRecord run;
  private final Lineage lineage;
  private final List<FaultRecord> faults;
  private final Instant submitted;
  private final Instant ended;
  private final long twoRunnerSamples;
  private final Path dataDir;
  private final java.util.Set<Path> corrupted;
  private final List<String> problems = new ArrayList<>();

  ChaosReport(
      RunRecord run,
      Lineage lineage,
      List<FaultRecord> faults,
      Instant submitted,
      Instant ended,
      long twoRunnerSamples,
      Path dataDir,
      java.util.Set<Path> corrupted) {
    this.run = run;
    this.lineage = lineage;
    this.faults = faults;
    this.submitted = submitted;
    this.ended = ended;
    this.twoRunnerSamples = twoRunnerSamples;
    this.dataDir = dataDir;
    this.corrupted = corrupted;
  }

  boolean passed() {
    return run.status().equals("SUCCEEDED") && problems.isEmpty();
  }

  /** A fault's measured cost: its downtime and the lost steps' time. */
  record Cost(FaultRecord fault, double toTrainingS, long lostSteps, double costS) {}

  List<Cost> costs() {
    double step = lineage.medianStep().toNanos() / 1e9;
    long[] lost = new long[faults.size()];
    for (RunRecord.Attempt a : run.attempts()) {
      Instant last = lineage.lastStepAt(a.number());
      if (last == null) continue;
      // the fault that ended this attempt: the latest struck before its last step (+5 s for a
      // kill, which lands just after a step)
      for (int i = faults.size() - 1; i >= 0; i--) {
        if (!faults.get(i).at().isAfter(last.plusSeconds(5))) {
          if (!a.status().equals("SUCCEEDED")) lost[i] += lineage.lostSteps(a.number());
          break;
        }
      }
    }
    List<Cost> out = new ArrayList<>();
    for (int i = 0; i < faults.size(); i++) {
      FaultRecord f = faults.get(i);
      Instant again = lineage.firstSurvivingAfter(f.at());
      double gap = again == null ? Double.NaN : Duration.between(f.at(), again).toMillis() / 1e3;
      out.add(new Cost(f, gap, lost[i], gap + lost[i] * step));
    }
    return out;
  }

  void print(PrintWriter out, long seed, int interval, int every) {
    double wall = Duration.between(submitted, ended).toMillis() / 1e3;
    double effective = lineage.effective().toMillis() / 1e3;
    double step = lineage.medianStep().toNanos() / 1e9;
    out.printf("%nchaos run, seed %d: pipeline %s", seed, run.status());
    if (run.failureReason() != null) out.printf(" (%s)", run.failureReason());
    out.printf(
        "%n  %d faults, one every %d s; %d attempts; final model: %d steps, checkpoint every %d"
            + " (%.1f ms a step)%n",
        faults.size(), interval, run.attempts().size(), lineage.finalSteps(), every, step * 1e3);
    out.printf(
        "  effective training time ratio: %.1f%% (%.1f s of surviving steps / %.1f s wall,"
            + " submit to end)%n",
        100 * effective / wall, effective, wall);

    List<Cost> costs = costs();
    out.printf(
        "%n  %-44s %5s %11s %22s %9s%n",
        "fault", "count", "steps lost", "-> training again p50/max", "cost s");
    Map<FaultKind, List<Cost>> byKind = new EnumMap<>(FaultKind.class);
    for (Cost c : costs) byKind.computeIfAbsent(c.fault().kind(), k -> new ArrayList<>()).add(c);
    for (FaultKind k : FaultKind.values()) {
      List<Cost> cs = byKind.getOrDefault(k, List.of());
      if (cs.isEmpty()) {
        out.printf("  %-44s %5d%n", k.label, 0);
        problems.add("no " + k.label + " was struck");
        continue;
      }
      List<Double> gaps = cs.stream().map(Cost::toTrainingS).sorted().toList();
      out.printf(
          "  %-44s %5d %11d %13.1f / %6.1f s %9.1f%n",
          k.label,
          cs.size(),
          cs.stream().mapToLong(Cost::lostSteps).sum(),
          gaps.get((gaps.size() - 1) / 2),
          gaps.get(gaps.size() - 1),
          cs.stream().mapToDouble(Cost::costS).average().orElse(0));
    }
    double meanCost = costs.stream().mapToDouble(Cost::costS).average().orElse(0);
    double killCost =
        byKind.getOrDefault(FaultKind.RUNNER_KILL, List.of()).stream()
            .mapToDouble(Cost::costS)
            .average()
            .orElse(meanCost);
    out.printf(
        "%n  from these costs, the ratio at other fault rates (faults alone; start-up and"
            + " export not counted):%n");
    out.printf(
        "    Llama 3's rate (466 interruptions in 54 days, one every %.0f s): %.3f%% with this"
            + " run's mean cost (%.1f s), %.3f%% with a runner kill's (%.1f s)%n",
        LLAMA3_MTBF_S,
        100 * (1 - meanCost / LLAMA3_MTBF_S),
        meanCost,
        100 * (1 - killCost / LLAMA3_MTBF_S),
        killCost);
    out.printf(
        "    ByteRobust's 97%%: reached here at one fault every %.0f s (this run: every %d s)%n",
        meanCost / (1 - BYTEROBUST_ETTR), interval);

    // integrity
    problems.addAll(lineage.metricProblems());
    long checked = 0;
    long pruned = 0;
    for (RunRecord.Checkpoint k : run.checkpoints()) {
      Path manifest = file(k.uri());
      if (corrupted.contains(manifest)) continue;
      if (!Files.exists(manifest)) {
        pruned++; // the runner's retention (keepLast) deleted it: it no longer exists
        continue;
      }
      String problem = verify(manifest);
      checked++;
      if (problem != null) problems.add("checkpoint " + k.uri() + ": " + problem);
    }
    long skipped = run.decisions().stream().filter(d -> d.contains("failed verification")).count();
    out.printf("%n  integrity:%n");
    out.printf(
        "    metrics: every step stored once per attempt, no gaps, every surviving step stored:"
            + " %s%n",
        lineage.metricProblems().isEmpty() ? "yes" : "NO: " + lineage.metricProblems());
    out.printf(
        "    checkpoints: %d kept, each re-hashed against its manifest: %s (%d more deleted by"
            + " keepLast); %d corrupted by the benchmark, %d refused by a runner's verification"
            + " and skipped%n",
        checked,
        problems.stream().anyMatch(p -> p.startsWith("checkpoint "))
            ? "NOT ALL VERIFY"
            : "all verify",
        pruned,
        corrupted.size(),
        skipped);
    out.printf(
        "    two runner JVMs alive at once: %s%n",
        twoRunnerSamples == 0 ? "never (sampled every 100 ms)" : twoRunnerSamples + " samples");
    if (twoRunnerSamples > 0) problems.add("two runners were alive at once");
    out.printf("    final checkpoint verifies: %s%n", finalVerifies());
    out.printf(
        "  attempts: %s%n",
        run.attempts().stream().map(a -> a.number() + ":" + a.cause() + "/" + a.status()).toList());
    if (!run.status().equals("SUCCEEDED")) problems.add("the pipeline is " + run.status());
    out.printf("  %s%n", problems.isEmpty() ? "PASSED" : "PROBLEMS: " + problems);
  }

  private String finalVerifies() {
    return run.checkpoints().stream()
        .filter(k -> Files.exists(file(k.uri())) && !corrupted.contains(file(k.uri())))
        .max(Comparator.comparingLong(RunRecord.Checkpoint::step))
        .map(
            k -> {
              String problem = verify(file(k.uri()));
              return problem == null ? "yes (step " + k.step() + ")" : "NO: " + problem;
            })
        .orElse("no checkpoint");
  }

  /** The embedded S3 server's file of a checkpoint's key (or {@code s3://bucket/key} URI). */
  private Path file(String uri) {
    String rest = uri.startsWith("s3://") ? uri.substring(5) : BUCKET + "/" + uri;
    return dataDir.resolve("s3").resolve(rest);
  }

  /** Null when every file the manifest lists has its recorded sha256; else what is wrong. */
  static String verify(Path manifest) {
    try {
      CheckpointManifest m = ProtocolJson.readManifest(Files.readString(manifest));
      for (CheckpointManifest.FileEntry f : m.files()) {
        Path p = manifest.resolveSibling(f.path());
        if (!Files.exists(p)) return f.path() + " is missing";
        if (!Sha256.hex(Files.readAllBytes(p)).equals(f.sha256())) return f.path() + " differs";
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return "unreadable: " + e.getMessage();
    }
  }
}
