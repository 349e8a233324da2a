package dev.anneal.platform.cli;

import dev.anneal.activities.metadata.AttemptRef;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.metadata.SyntheticHistory;
import dev.anneal.platform.api.auth.ApiTokens;
import dev.anneal.platform.api.auth.Scope;
import dev.anneal.platform.api.teams.Teams;
import dev.anneal.platform.ingest.AttemptTokens;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The API benchmark ({@code ./anneal bench api}): the embedded stack holding 1,000 pipelines and
 * 1,000,000 metric points; wrk on loopback measures requests/s and p99 of the pipeline list, a
 * pipeline, a downsampled metric read and a raw metric window, each against {@code /api/v1/me} (the
 * same authentication, no query) measured in the same run; then runner event ingestion (points/s,
 * p99 per batch) alone and under a concurrent wrk read load.
 */
@Command(
    name = "bench-api",
    hidden = true,
    description = "Measure the REST API with wrk and runner ingestion under read load")
class BenchApiCommand extends EmbeddedBench {

  @Option(names = "--duration", description = "seconds per measurement (default 10)")
  int duration = 10;

  @Option(names = "--connections", description = "wrk connections (default 16)")
  int connections = 16;

  @Option(names = "--writers", description = "concurrent runners posting events (default 4)")
  int writers = 4;

  @Option(names = "--pipelines", description = "pipelines to hold (default 1000)")
  int pipelines = 1000;

  @Option(names = "--points", description = "metric points to hold (default 1000000)")
  int points = 1_000_000;

  record Wrk(double rps, double p99ms, long non2xx) {}

  @Override
  boolean ready(PrintWriter err) {
    // wrk sends thousands of requests a second on one token: the benchmark measures the server,
    // not the per-token rate limit, so the limit is off (unless the command line sets one)
    if (options.properties.stream().noneMatch(p -> p.startsWith("anneal.api.rate-limit."))) {
      options.properties.add("anneal.api.rate-limit.per-second=0");
    }
    if (wrkInstalled()) return true;
    err.println("anneal: the API benchmark needs wrk (Debian/Ubuntu: apt-get install wrk)");
    return false;
  }

  @Override
  int measure(ConfigurableApplicationContext ctx, PrintWriter out) throws Exception {
    String base = "http://127.0.0.1:" + ctx.getEnvironment().getProperty("local.server.port");
    JdbcTemplate jdbc = ctx.getBean(JdbcTemplate.class);
    Teams teams = ctx.getBean(Teams.class);
    ApiTokens tokens = ctx.getBean(ApiTokens.class);
    Teams.Team team =
        teams.create(
            "bench-" + UUID.randomUUID().toString().substring(0, 6), null, 100, null, false);
    String token = tokens.create(team.id(), "bench", EnumSet.of(Scope.READ), null, null).token();

    long t0 = System.nanoTime();
    String specJson =
        ProtocolJson.write(
            PipelineSpecs.parse(
                """
                apiVersion: anneal.dev/v1
                kind: Pipeline
                metadata: {name: bench}
                model: {preset: micro}
                datasets: [{name: prose, source: "synthetic:prose?docs=400"}]
                stages:
                  - kind: pretrain
                    data: [{dataset: prose}]
                    hyperparameters: {steps: 25000, batchSize: 8, seqLen: 32, lr: 0.002}
                """));
    // 1M points: 10 stages x 4 series x 25,000 steps (a loss spike at step 12,345)
    SyntheticHistory.Seeded seeded =
        ctx.getBean(MetadataStore.class)
            .syntheticHistory()
            .seed(team.id(), team.name(), specJson, pipelines, points, 10);
    int steps = seeded.steps();
    List<UUID> pipelineIds = seeded.withMetrics();
    // a live system has had autovacuum over its metrics; the seed is one bulk insert
    jdbc.execute("VACUUM ANALYZE metrics");
    jdbc.execute("ANALYZE");
    long held = seeded.points();
    long heldPipelines = seeded.pipelines();
    out.printf(
        "seeded %d pipelines and %d metric points in %.1f s%n%n",
        heldPipelines, held, (System.nanoTime() - t0) / 1e9);

    UUID one = pipelineIds.get(0);
    String[][] reads = {
      {"baseline: GET /api/v1/me", "/api/v1/me"},
      {"pipeline list (50 a page)", "/api/v1/pipelines?pageSize=50"},
      {"pipeline get", "/api/v1/pipelines/" + one},
      {
        "metric read, " + steps + " points -> 1500",
        "/api/v1/pipelines/" + one + "/stages/pretrain/metrics?name=loss"
      },
      {
        "metric read, " + steps + " points -> 100",
        "/api/v1/pipelines/" + one + "/stages/pretrain/metrics?name=loss&maxPoints=100"
      },
      {
        "metric window, 1000 raw points",
        "/api/v1/pipelines/" + one + "/stages/pretrain/metrics?name=loss&fromStep=1000&toStep=1999"
      },
    };
    out.printf("wrk: %d connections, 2 threads, %d s each, loopback%n", connections, duration);
    out.printf("%-40s %12s %10s %14s%n", "endpoint", "requests/s", "p99 ms", "vs baseline");
    double baseline = 0;
    Wrk listAlone = null;
    for (String[] r : reads) {
      Wrk w = wrk(base + r[1], token, duration);
      if (baseline == 0) baseline = w.rps();
      if (r[0].startsWith("pipeline list")) listAlone = w;
      out.printf(
          "%-40s %12.0f %10.1f %13.2fx%s%n",
          r[0],
          w.rps(),
          w.p99ms(),
          w.rps() / baseline,
          w.non2xx() > 0 ? "  (" + w.non2xx() + " non-2xx!)" : "");
      out.flush();
    }

    // ingestion: runners posting metric batches, alone and under a read load
    MetadataStore meta = ctx.getBean(MetadataStore.class);
    AttemptTokens attemptTokens = ctx.getBean(AttemptTokens.class);
    UUID pid = meta.pipelines().create(team.id(), "ingest", "{}", "wf-ingest-" + UUID.randomUUID());
    UUID stage = meta.stages().create(pid, 0, StageKind.PRETRAIN, 1_000_000);
    out.printf("%ningestion: %d runners, each batch 20 events x 5 points%n", writers);
    // with and without the rollup upserts, alternated (so warm-up favours neither): what the
    // rollups cost ingestion, in this run
    UUID bare = meta.stages().create(pid, 1, "bare", StageKind.PRETRAIN, 1_000_000, 0);
    double[] with = new double[2];
    double[] without = new double[2];
    double[] withP99 = new double[2];
    int attempt = 1;
    for (int round = 0; round < 2; round++) {
      Ingest w = ingest(base, meta, attemptTokens, stage, attempt, duration);
      meta.ingestion().keepRollups(false);
      Ingest wo;
      try {
        wo = ingest(base, meta, attemptTokens, bare, attempt, duration);
      } finally {
        meta.ingestion().keepRollups(true);
      }
      attempt += writers;
      with[round] = w.pointsPerSecond();
      withP99[round] = w.p99ms();
      without[round] = wo.pointsPerSecond();
    }
    Ingest alone = new Ingest((with[0] + with[1]) / 2, Math.max(withP99[0], withP99[1]));
    double bareRate = (without[0] + without[1]) / 2;
    out.printf(
        "%-40s %12.0f points/s  p99 %.1f ms per batch%n",
        "alone", alone.pointsPerSecond(), alone.p99ms());
    out.printf(
        "%-40s %12.0f points/s  (with rollups: %.2fx of this)%n",
        "alone, without rollups", bareRate, alone.pointsPerSecond() / bareRate);
    out.flush();
    CompletableFuture<Wrk> load =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return wrk(base + reads[1][1], token, duration);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Ingest loaded = ingest(base, meta, attemptTokens, stage, attempt, duration);
    Wrk under = load.get();
    out.printf(
        "%-40s %12.0f points/s  p99 %.1f ms per batch (%.2fx of alone)%n",
        "under a wrk read load (pipeline list)",
        loaded.pointsPerSecond(),
        loaded.p99ms(),
        loaded.pointsPerSecond() / alone.pointsPerSecond());
    out.printf(
        "%-40s %12.0f requests/s p99 %.1f ms (%.2fx of the list alone)%n",
        "  the read load meanwhile", under.rps(), under.p99ms(), under.rps() / listAlone.rps());
    return 0;
  }

  record Ingest(double pointsPerSecond, double p99ms) {}

  private Ingest ingest(
      String base,
      MetadataStore meta,
      AttemptTokens attemptTokens,
      UUID stage,
      int firstAttempt,
      int seconds)
      throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    List<Future<long[]>> futures = new ArrayList<>();
    List<List<Long>> latencies = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      AttemptRef a =
          meta.reads()
              .attempt(meta.attempts().create(stage, firstAttempt + w, "first"))
              .orElseThrow();
      String token = attemptTokens.issue(a.attemptId());
      List<Long> lat = new ArrayList<>();
      latencies.add(lat);
      futures.add(
          pool.submit(
              () -> {
                long seq = 1;
                long step = 0;
                long pts = 0;
                while (System.nanoTime() < end) {
                  List<RunnerEvent> events = new ArrayList<>();
                  for (int e = 0; e < 20; e++) {
                    List<RunnerEvent.MetricPoint> p = new ArrayList<>();
                    for (String n :
                        List.of("loss", "grad_norm", "lr", "tokens_per_s", "loss_scale")) {
                      p.add(new RunnerEvent.MetricPoint(step, n, 1.0 / (step + 1)));
                    }
                    events.add(new RunnerEvent.Metrics(seq++, Instant.now(), p));
                    step++;
                  }
                  String body =
                      ProtocolJson.write(
                          new EventBatch(
                              a.team(), a.pipelineName(), a.stage(), a.number(), events));
                  long t = System.nanoTime();
                  HttpResponse<String> r =
                      http.send(
                          HttpRequest.newBuilder(URI.create(base + "/internal/v1/events"))
                              .header("Authorization", "Bearer " + token)
                              .header("Content-Type", "application/json")
                              .POST(
                                  HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                              .build(),
                          HttpResponse.BodyHandlers.ofString());
                  lat.add(System.nanoTime() - t);
                  if (r.statusCode() != 200) {
                    throw new IllegalStateException(
                        "ingest answered " + r.statusCode() + ": " + r.body());
                  }
                  pts += 100;
                }
                return new long[] {pts};
              }));
    }
    long t0 = System.nanoTime();
    long total = 0;
    for (Future<long[]> f : futures) total += f.get()[0];
    double secs = (System.nanoTime() - t0) / 1e9;
    pool.shutdown();
    List<Long> all = new ArrayList<>();
    latencies.forEach(all::addAll);
    all.sort(Long::compare);
    double p99 =
        all.isEmpty()
            ? 0
            : all.get((int) Math.min(all.size() - 1, Math.ceil(all.size() * 0.99) - 1)) / 1e6;
    return new Ingest(total / secs, p99);
  }

  private static boolean wrkInstalled() {
    try {
      Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      p.waitFor();
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private Wrk wrk(String url, String token, int seconds) throws Exception {
    Process p =
        new ProcessBuilder(
                "wrk",
                "-t2",
                "-c" + connections,
                "-d" + seconds + "s",
                "--latency",
                "-H",
                "Authorization: Bearer " + token,
                url)
            .redirectErrorStream(true)
            .start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(text);
    Matcher p99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)").matcher(text);
    Matcher bad = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(text);
    if (!rps.find() || !p99.find())
      throw new IllegalStateException("cannot read wrk's output:\n" + text);
    double ms =
        Double.parseDouble(p99.group(1))
            * switch (p99.group(2)) {
              case "us" -> 0.001;
              case "s" -> 1000;
              default -> 1;
            };
    return new Wrk(
        Double.parseDouble(rps.group(1)), ms, bad.find() ? Long.parseLong(bad.group(1)) : 0);
  }
}
