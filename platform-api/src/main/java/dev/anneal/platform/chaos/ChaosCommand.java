package dev.anneal.platform.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.platform.cli.client.ApiClient;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The chaos benchmark ({@code ./anneal bench chaos}): one long pre-training stage on the embedded
 * stack, run by an {@code anneal serve} of its own, under a seeded schedule of faults at a fixed
 * rate — every kind of {@link FaultKind} at least once, the platform's own death among them. It
 * reports the effective training time ratio, each fault kind's cost and the run's integrity.
 */
@Command(
    name = "bench-chaos",
    hidden = true,
    description = "Train under a seeded storm of faults; report the effective training time ratio")
public class ChaosCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--minutes",
      description =
          "training time the chaos stage is sized for (default 15); faults come every --interval"
              + " until it ends")
  double minutes = 15;

  @Option(names = "--seed", description = "the schedule's seed (default 1)")
  long seed = 1;

  @Option(names = "--interval", description = "seconds between faults (default 90)")
  int interval = 90;

  @Option(
      names = "--faults",
      description = "strike at most this many faults (default: until the stage ends)")
  int maxFaults = Integer.MAX_VALUE;

  @Option(names = "--s3-outage", description = "seconds S3 stays unreachable (default 30)")
  int s3Outage = 30;

  @Option(names = "--checkpoint-every", description = "checkpoint interval in steps (default 50)")
  int checkpointEvery = 50;

  @Option(
      names = "--steps",
      description = "the chaos stage's steps (default: calibrated to fill --minutes)")
  Long steps;

  @Option(names = "--data-dir", required = true, description = "an empty folder for the run")
  Path dataDir;

  @Option(names = "--runner-jar", description = "the runner jar (default: anneal.runner.jar)")
  Path runnerJar;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path jar = runnerJar != null ? runnerJar : Path.of(System.getProperty("anneal.runner.jar", ""));
    if (!Files.isRegularFile(jar)) {
      spec.commandLine().getErr().println("anneal: no runner jar at '" + jar + "' (--runner-jar)");
      return 1;
    }
    Path data = dataDir.toAbsolutePath().resolve("data");
    Path logs = dataDir.toAbsolutePath().resolve("logs");
    Files.createDirectories(logs);
    int apiPort = freePort();
    int pgPort = freePort();
    int s3Port = freePort();
    int gatePort = freePort();
    String api = "http://127.0.0.1:" + apiPort;
    String jdbc = "jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres";
    List<String> serveArgs =
        List.of(
            "--port", Integer.toString(apiPort),
            "--data-dir", data.toString(),
            "--pg-port", Integer.toString(pgPort),
            "--temporal-port", Integer.toString(freePort()),
            "--s3-port", Integer.toString(s3Port),
            "--set", "anneal.embedded.s3-endpoint=http://127.0.0.1:" + gatePort,
            "--set", "anneal.runner.jar=" + jar.toAbsolutePath());
    ServeProcess serve = new ServeProcess(data, logs, serveArgs);
    Runners runners = new Runners(data);
    try (TcpGate gate = new TcpGate(gatePort, s3Port)) {
      serve.start(api, Duration.ofMinutes(3));
      String token = serve.bootstrapToken();
      out.printf("chaos: anneal serve up on %s (data in %s), seed %d%n", api, data, seed);

      long total;
      if (steps != null) {
        total = steps;
      } else {
        // a short fault-free run of the same stage measures a step, so the stage fills the time;
        // only its last quarter counts: a runner's steps keep getting faster for a thousand or
        // so (JIT, allocator), and the platform is still starting beside it
        ChaosSpec calib = new ChaosSpec("chaos-calibration", CALIBRATION_STEPS, checkpointEvery);
        UUID c = submit(api, token, calib.yaml());
        awaitEnd(jdbc, c, Duration.ofMinutes(10));
        double step = steadyStep(RunRecord.read(jdbc, c)).toNanos() / 1e9;
        total = Math.max(400, (long) (minutes * 60 / step));
        out.printf(
            "chaos: calibration: %.1f ms a step; the chaos stage trains %d steps%n",
            step * 1000, total);
        out.flush();
      }

      ChaosSpec chaos = new ChaosSpec("chaos-" + seed, total, checkpointEvery);
      Instant submitted = Instant.now();
      UUID id = submit(api, token, chaos.yaml());
      Strikes strikes =
          new Strikes(serve, gate, runners, data, logs, api, Duration.ofSeconds(s3Outage));
      AtomicLong twoRunners = new AtomicLong();
      Thread watch = watchRunners(runners, twoRunners);
      List<FaultRecord> faults = new ArrayList<>();
      List<FaultKind> order = schedule(new Random(seed));
      Instant next = submitted.plusSeconds(interval);
      Duration bound = Duration.ofMillis((long) (minutes * 60_000 * 3)).plusMinutes(5);
      String status;
      while ((status = statusOf(jdbc, id)) == null || !ended(status)) {
        if (Instant.now().isAfter(submitted.plus(bound))) {
          out.printf("chaos: gave up after %s: the pipeline is still %s%n", bound, status);
          break;
        }
        // faults come at the same rate until the stage ends: the ratio is the one at that rate
        if (!Instant.now().isBefore(next) && faults.size() < maxFaults) {
          FaultKind kind = order.get(faults.size() % order.size());
          Instant at = Instant.now();
          String what = strikes.strike(kind);
          FaultRecord f = new FaultRecord(kind, at, Instant.now(), what);
          faults.add(f);
          out.printf(
              "chaos: %6.1f s  %-40s %s%n",
              Duration.between(submitted, at).toMillis() / 1000.0, kind.label, what);
          out.flush();
          next = next.plusSeconds(interval);
        }
        Thread.sleep(500);
      }
      Instant ended = Instant.now();
      watch.interrupt();
      RunRecord run = RunRecord.read(jdbc, id);
      ChaosReport report =
          new ChaosReport(
              run,
              new Lineage(run),
              faults,
              submitted,
              ended,
              twoRunners.get(),
              data,
              strikes.corrupted());
      report.print(out, seed, interval, checkpointEvery);
      out.flush();
      serve.stop();
      return report.passed() ? 0 : 3;
    } finally {
      if (serve.alive()) serve.stop();
      // runners outlive their platform by design: one left by a run cut short is stopped here
      for (Path job : runners.folders()) runners.process(job).ifPresent(ProcessHandle::destroy);
    }
  }

  private static final int CALIBRATION_STEPS = 2000;

  /**
   * The mean wall time of a step over the last quarter of a fault-free run: the mean, not the
   * median, because checkpoints, collections and event shipping slow some steps, and the stage's
   * length follows the mean.
   */
  static Duration steadyStep(RunRecord run) {
    for (List<RunRecord.Point> pts : run.losses().values()) {
      List<RunRecord.Point> tail =
          pts.stream().filter(p -> p.step() >= CALIBRATION_STEPS * 3 / 4).toList();
      if (tail.size() >= 2) {
        Duration span = Duration.between(tail.get(0).at(), tail.get(tail.size() - 1).at());
        return span.dividedBy(tail.get(tail.size() - 1).step() - tail.get(0).step());
      }
    }
    throw new IllegalStateException("the calibration run stored no steps");
  }

  /** Every kind once in a seeded order, then a seeded pick a fault. */
  static List<FaultKind> schedule(Random random) {
    List<FaultKind> first = new ArrayList<>(Arrays.asList(FaultKind.values()));
    Collections.shuffle(first, random);
    List<FaultKind> order = new ArrayList<>(first);
    for (int i = 0; i < 40; i++) {
      order.add(FaultKind.values()[random.nextInt(FaultKind.values().length)]);
    }
    return order;
  }

  private static UUID submit(String api, String token, String yaml) {
    JsonNode p =
        new ApiClient(api, token).post("/api/v1/pipelines", "application/yaml", yaml, Map.of());
    return UUID.fromString(p.path("id").asText());
  }

  private static boolean ended(String status) {
    return List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(status);
  }

  /** The pipeline's status, or null while PostgreSQL cannot be reached (it may be restarting). */
  private static String statusOf(String jdbc, UUID id) {
    try (Connection c = DriverManager.getConnection(jdbc, "postgres", "");
        PreparedStatement s = c.prepareStatement("SELECT status FROM pipelines WHERE id = ?")) {
      s.setObject(1, id);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? r.getString(1) : null;
      }
    } catch (java.sql.SQLException e) {
      return null;
    }
  }

  private static void awaitEnd(String jdbc, UUID id, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    String status;
    while ((status = statusOf(jdbc, id)) == null || !ended(status)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("pipeline " + id + " did not end in " + within);
      }
      Thread.sleep(500);
    }
    if (!status.equals("SUCCEEDED")) {
      throw new IllegalStateException("pipeline " + id + " ended " + status);
    }
  }

  /** Samples the runner JVMs alive every 100 ms; counts the samples that saw two or more. */
  private static Thread watchRunners(Runners runners, AtomicLong twoOrMore) {
    Thread t =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                if (runners.aliveJvms() > 1) twoOrMore.incrementAndGet();
                try {
                  Thread.sleep(100);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "chaos-runner-watch");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
