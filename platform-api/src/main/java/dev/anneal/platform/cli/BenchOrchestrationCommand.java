package dev.anneal.platform.cli;

import dev.anneal.activities.launch.LocalProcessLauncher;
import dev.anneal.activities.metadata.EventRow;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.platform.pipeline.PipelineLauncher;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.workflows.api.jobs.JobNames;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.status.PipelineStatus;
import io.temporal.client.WorkflowStub;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The orchestration benchmark ({@code ./anneal bench orchestration}): on the embedded stack, how
 * much of a stage's wall time is not the runner's, how long from submit to the first training step,
 * from an instability to training resumed, and how many steps a SIGKILL costs. Two pipelines of one
 * pre-training stage each (micro model, so that orchestration, not training, dominates): one with
 * an injected loss spike, one whose runner the benchmark kills with SIGKILL at chosen steps.
 */
@Command(
    name = "bench-orchestration",
    hidden = true,
    description =
        "Measure orchestration overhead, submit-to-first-step, rollback and restart costs")
class BenchOrchestrationCommand extends EmbeddedBench {

  @Option(names = "--steps", description = "steps of each stage (default 300)")
  int steps = 300;

  @Option(names = "--checkpoint-every", description = "checkpoint interval (default 25)")
  int every = 25;

  @Option(
      names = "--kills",
      description = "steps at which the runner is SIGKILLed (default 70,160,235)",
      split = ",")
  List<Long> kills = List.of(70L, 160L, 235L);

  private static final String SPEC =
      """
      apiVersion: anneal.dev/v1
      kind: Pipeline
      metadata: {name: %s}
      model: {preset: micro}
      tokenizer: {vocabSize: 300}
      datasets: [{name: prose, source: "synthetic:prose?docs=400"}]
      stages:
        - kind: pretrain
          data: [{dataset: prose}]
          hyperparameters: {steps: %d, batchSize: 8, seqLen: 32, lr: 0.002}
          checkpoint: {everySteps: %d, keepLast: 50}
          stability: {rollback: {steps: %d}, skipBatches: %d, lrFactor: 0.5, maxRestarts: 10}
      %s""";

  /** One attempt's job as its folder tells it. */
  record Attempt(
      Path dir,
      Instant processStart,
      Instant processEnd,
      Instant firstStep,
      Instant lastEvent,
      long lastStep,
      Instant instabilityAt) {
    Duration training() {
      return firstStep == null ? Duration.ZERO : Duration.between(firstStep, lastEvent);
    }

    Duration process() {
      return processStart == null || processEnd == null
          ? Duration.ZERO
          : Duration.between(processStart, processEnd);
    }
  }

  @Override
  int measure(ConfigurableApplicationContext ctx, PrintWriter out) throws Exception {
    PipelineLauncher launcher = ctx.getBean(PipelineLauncher.class);
    LocalProcessLauncher jobs = ctx.getBean(LocalProcessLauncher.class);
    MetadataStore meta = ctx.getBean(MetadataStore.class);

    // 1. a spike, rolled back
    PipelineSpec spike =
        PipelineSpecs.parse(
            SPEC.formatted(
                "bench-spike",
                steps,
                every,
                every,
                every * 2,
                "    inject: {spikeAtStep: "
                    + (steps * 2 / 3)
                    + ", spikeSteps: 10, spikeLrMultiplier: 300}\n"));
    Instant submitted = Instant.now();
    PipelineLauncher.Started s1 = launcher.start("bench", spike);
    PipelineResult r1 = await(s1);
    Instant ended = Instant.now();
    List<Attempt> a1 = attempts(jobs, s1);
    out.printf("%nspike pipeline: %s, %d attempts%n", r1.status(), a1.size());
    report(out, "spike", submitted, ended, a1);
    if (a1.size() >= 2 && a1.get(0).instabilityAt() != null && a1.get(1).firstStep() != null) {
      out.printf(
          "  instability reported -> training resumed: %.1f s%n",
          seconds(Duration.between(a1.get(0).instabilityAt(), a1.get(1).firstStep())));
    }

    // 2. SIGKILLs, restarted
    PipelineSpec crash =
        PipelineSpecs.parse(SPEC.formatted("bench-kill", steps, every, every, every * 2, ""));
    submitted = Instant.now();
    PipelineLauncher.Started s2 = launcher.start("bench", crash);
    CompletableFuture<PipelineResult> f =
        WorkflowStub.fromTyped(s2.workflow()).getResultAsync(PipelineResult.class);
    List<Instant> killedAt = new ArrayList<>();
    for (int k = 0; k < kills.size(); k++) {
      Path dir = awaitJob(jobs, s2, k + 1, f);
      if (dir == null) break;
      long target = kills.get(k);
      while (!f.isDone() && jobs.lastStep(dir.getFileName().toString()) < target) {
        Thread.sleep(20);
      }
      if (f.isDone()) break;
      long pid = Long.parseLong(Files.readString(dir.resolve("pid")).trim());
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      killedAt.add(Instant.now());
    }
    PipelineResult r2 = f.get();
    ended = Instant.now();
    List<Attempt> a2 = attempts(jobs, s2);
    out.printf(
        "%nkill pipeline: %s, %d attempts, %d SIGKILLs%n", r2.status(), a2.size(), killedAt.size());
    report(out, "kill", submitted, ended, a2);
    List<Long> resumes = new ArrayList<>();
    for (EventRow e : meta.reads().events(s2.pipelineId(), 0, 100_000)) {
      Matcher m =
          Pattern.compile("^restart \\d+ after .*: resume from step (\\d+)").matcher(e.message());
      if (e.type().equals("stage") && m.find()) resumes.add(Long.parseLong(m.group(1)));
    }
    long lostTotal = 0;
    for (int k = 0; k < Math.min(resumes.size(), killedAt.size()); k++) {
      long reached = a2.get(k).lastStep() + 1; // metrics carry the 0-based step index
      long lost = reached - resumes.get(k);
      lostTotal += lost;
      double downtime =
          a2.size() > k + 1 && a2.get(k + 1).firstStep() != null
              ? seconds(Duration.between(killedAt.get(k), a2.get(k + 1).firstStep()))
              : Double.NaN;
      out.printf(
          "  SIGKILL %d: killed after %d steps, resumed from step %d: %d steps lost (interval %d); kill -> training again: %.1f s%n",
          k + 1, reached, resumes.get(k), lost, every, downtime);
    }
    long backoff = 0;
    for (EventRow e : meta.reads().events(s2.pipelineId(), 0, 100_000)) {
      Matcher m = Pattern.compile("^restart \\d+ after .* in (\\d+)s$").matcher(e.message());
      if (e.type().equals("stage") && m.find()) backoff += Long.parseLong(m.group(1));
    }
    out.printf(
        "  of the platform's time, restart backoff (policy: doubling from"
            + " anneal.runner.restart-backoff-seconds): %d s%n",
        backoff);
    if (!resumes.isEmpty()) {
      out.printf(
          "  steps lost per restart: %.1f on average (limit: one checkpoint interval, %d)%n",
          (double) lostTotal / Math.min(resumes.size(), killedAt.size()), every);
    }
    out.flush();
    return r1.status() == PipelineStatus.SUCCEEDED && r2.status() == PipelineStatus.SUCCEEDED
        ? 0
        : 3;
  }

  private static void report(
      PrintWriter out, String name, Instant submitted, Instant ended, List<Attempt> as) {
    Duration wall = Duration.between(submitted, ended);
    Duration training = as.stream().map(Attempt::training).reduce(Duration.ZERO, Duration::plus);
    Duration process = as.stream().map(Attempt::process).reduce(Duration.ZERO, Duration::plus);
    out.printf("  stage wall time (submit -> result): %.1f s%n", seconds(wall));
    out.printf(
        "  runner training time (first step -> last event, all attempts): %.1f s%n",
        seconds(training));
    out.printf(
        "  orchestration overhead (wall - training) / wall: %.1f%%, of which runner start-up"
            + " (JVM, data, tokenizer; process time - training) %.1f s and the platform (wall -"
            + " process time) %.1f s%n",
        100 * (1 - seconds(training) / seconds(wall)),
        seconds(process.minus(training)),
        seconds(wall.minus(process)));
    if (!as.isEmpty() && as.get(0).firstStep() != null) {
      out.printf(
          "  submit -> first training step: %.1f s (of which runner start-up %.1f s)%n",
          seconds(Duration.between(submitted, as.get(0).firstStep())),
          as.get(0).processStart() == null
              ? Double.NaN
              : seconds(Duration.between(as.get(0).processStart(), as.get(0).firstStep())));
    }
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }

  private static PipelineResult await(PipelineLauncher.Started s) throws Exception {
    return WorkflowStub.fromTyped(s.workflow())
        .getResultAsync(PipelineResult.class)
        .get(30, TimeUnit.MINUTES);
  }

  private static Path awaitJob(
      LocalProcessLauncher jobs, PipelineLauncher.Started s, int attempt, CompletableFuture<?> f)
      throws Exception {
    while (!f.isDone()) {
      for (Path p : jobDirs(jobs, s)) {
        if (attemptOf(p) == attempt && Files.exists(p.resolve("pid"))) {
          return p;
        }
      }
      Thread.sleep(20);
    }
    return null;
  }

  private static List<Path> jobDirs(LocalProcessLauncher jobs, PipelineLauncher.Started s)
      throws IOException {
    Path root = jobs.workDir();
    // job names start with the pipeline's id (JobNames)
    String prefix = "anneal-" + s.pipelineId();
    if (!Files.isDirectory(root)) return List.of();
    try (Stream<Path> d = Files.list(root)) {
      return d.filter(p -> p.getFileName().toString().startsWith(prefix))
          .sorted(Comparator.comparingInt(BenchOrchestrationCommand::attemptOf))
          .toList();
    }
  }

  private static int attemptOf(Path p) {
    return JobNames.attemptOf(p.getFileName().toString());
  }

  private static List<Attempt> attempts(LocalProcessLauncher jobs, PipelineLauncher.Started s)
      throws IOException {
    List<Attempt> out = new ArrayList<>();
    for (Path dir : jobDirs(jobs, s)) {
      List<RunnerEvent> ev = jobs.events(dir.getFileName().toString());
      Instant first = firstTime(ev, RunnerEvent.Metrics.class);
      Instant last = ev.isEmpty() ? null : ev.get(ev.size() - 1).time();
      Instant instability = firstTime(ev, RunnerEvent.Instability.class);
      out.add(
          new Attempt(
              dir,
              read(dir.resolve("started_at")),
              read(dir.resolve("finished_at")),
              first,
              last,
              jobs.lastStep(dir.getFileName().toString()),
              instability));
    }
    return out;
  }

  /** When the first event of this type came, or null. */
  private static Instant firstTime(List<RunnerEvent> events, Class<? extends RunnerEvent> type) {
    return events.stream().filter(type::isInstance).map(RunnerEvent::time).findFirst().orElse(null);
  }

  private static Instant read(Path p) {
    try {
      return Instant.parse(Files.readString(p).trim());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
