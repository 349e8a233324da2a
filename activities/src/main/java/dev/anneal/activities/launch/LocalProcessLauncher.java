package dev.anneal.activities.launch;

import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.JobState.Phase;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs each job as a child JVM ({@code java -jar anneal-runner.jar --spec …}, or {@code exec …
 * --engine torch} whose ranks are its children, see {@link RunnerArgs}) — on a laptop, the crash of
 * that process is what a pod crash is on a cluster. Every job has a folder under {@code
 * workDir/<job name>/} with {@code events.jsonl} (the runner's standard output), {@code runner.log}
 * (its standard error), {@code pid} and, once it ended, {@code exit_code}; so a platform that
 * restarts finds its jobs again: a live runner is RUNNING, a recorded exit code is final, and a job
 * that died unseen is UNKNOWN (an infrastructure failure).
 *
 * <p>The runner runs under a small {@code sh} watcher that writes its exit code into the folder
 * when it ends, so the code is kept while no platform is watching (the platform killed,
 * restarting). Each process is recorded with its start time ({@code pid_started}, {@code watcher}):
 * a pid the system has since given to another program is never taken for the runner, and never
 * signalled.
 */
public final class LocalProcessLauncher implements JobLauncher {

  private final Path runnerJar;
  private final Path workDir;
  private final List<String> jvmOptions;
  private final Map<String, Process> children = new ConcurrentHashMap<>();

  public LocalProcessLauncher(Path runnerJar, Path workDir, List<String> jvmOptions) {
    this.runnerJar = runnerJar.toAbsolutePath();
    this.workDir = workDir.toAbsolutePath();
    this.jvmOptions = jvmOptions.stream().filter(o -> !o.isBlank()).toList();
  }

  /** The folder that holds one folder a job. */
  public Path workDir() {
    return workDir;
  }

  public Path jobDir(String jobName) {
    return workDir.resolve(jobName);
  }

  @Override
  public synchronized JobState launch(LaunchRequest request) {
    Path dir = jobDir(request.jobName());
    if (Files.exists(dir.resolve("pid"))) {
      return status(request.jobName()); // already launched: never start a twin
    }
    if (!Files.isRegularFile(runnerJar)) {
      throw new IllegalStateException(
          "the runner jar "
              + runnerJar
              + " does not exist; build it with"
              + " ./mvnw -B -DskipTests install");
    }
    try {
      Files.createDirectories(dir);
      List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", WATCHER, "anneal-watcher"));
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(jvmOptions);
      cmd.addAll(List.of("-jar", runnerJar.toString()));
      cmd.addAll(RunnerArgs.of(request, null, null));
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .directory(dir.toFile())
              .redirectOutput(dir.resolve("events.jsonl").toFile())
              .redirectError(dir.resolve("runner.log").toFile());
      pb.environment().putAll(request.env());
      Process watcher = pb.start();
      Files.writeString(dir.resolve("watcher"), identity(watcher.toHandle()));
      ProcessHandle runner = runnerOf(watcher);
      Files.writeString(dir.resolve("pid_started"), identity(runner));
      Files.writeString(dir.resolve("pid"), Long.toString(runner.pid()));
      Files.writeString(dir.resolve("started_at"), Instant.now().toString());
      children.put(request.jobName(), watcher);
      return status(request.jobName());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the runner for " + request, e);
    }
  }

  /**
   * Runs the runner in the foreground and writes its exit code (128 + the signal when a signal
   * ended it) atomically into {@code exit_code}. INT and TERM get a handler that does nothing, not
   * an ignore, so the runner still gets them (a Ctrl-C, a cancel) and the watcher lives on to
   * record how it ended.
   */
  private static final String WATCHER =
      "trap true INT TERM; \"$@\"; code=$?; date -u +%Y-%m-%dT%H:%M:%SZ > finished_at;"
          + " printf %s \"$code\" > exit_code.tmp && mv exit_code.tmp exit_code";

  /** The runner the watcher started (its one child), or the watcher itself if it has none yet. */
  private static ProcessHandle runnerOf(Process watcher) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline && watcher.isAlive()) {
      Optional<ProcessHandle> child = watcher.toHandle().children().findFirst();
      if (child.isPresent()) {
        return child.get();
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return watcher.toHandle();
  }

  /** "pid start-instant": what tells a process from a later one given the same pid. */
  private static String identity(ProcessHandle p) {
    return p.pid() + " " + p.info().startInstant().map(Instant::toString).orElse("?");
  }

  /** The live process recorded in {@code file} ("pid start-instant"), if it is still that one. */
  private static Optional<ProcessHandle> recorded(Path file) {
    Optional<String> line = read(file);
    if (line.isEmpty()) {
      return Optional.empty();
    }
    String[] parts = line.get().trim().split(" ", 2);
    Optional<ProcessHandle> p =
        ProcessHandle.of(Long.parseLong(parts[0])).filter(ProcessHandle::isAlive);
    if (parts.length < 2 || parts[1].equals("?")) {
      return p;
    }
    // the same pid with another start time is another program
    return p.filter(
        h -> h.info().startInstant().map(i -> i.toString().equals(parts[1])).orElse(true));
  }

  @Override
  public JobState status(String jobName) {
    Path dir = jobDir(jobName);
    Instant started = read(dir.resolve("started_at")).map(Instant::parse).orElse(null);
    Optional<JobState> ended = ended(jobName, started);
    if (ended.isPresent()) {
      return ended.get();
    }
    Optional<String> pid = read(dir.resolve("pid"));
    if (pid.isEmpty()) {
      return new JobState(jobName, Phase.UNKNOWN, null, "no such job", null, null);
    }
    Process child = children.get(jobName);
    boolean alive =
        child != null
            ? child.isAlive()
            : Files.exists(dir.resolve("watcher"))
                ? recorded(dir.resolve("watcher")).isPresent()
                // a job launched before watchers: its runner's pid alone
                : ProcessHandle.of(Long.parseLong(pid.get().trim()))
                    .map(ProcessHandle::isAlive)
                    .orElse(false);
    if (alive) {
      return new JobState(jobName, Phase.RUNNING, null, null, started, null);
    }
    ended = ended(jobName, started); // written just now, as the watcher ended?
    if (ended.isPresent()) {
      return ended.get();
    }
    return new JobState(
        jobName,
        Phase.UNKNOWN,
        null,
        "the runner and its watcher ended without recording an exit code (killed together?);"
            + " its exit code is lost",
        started,
        null);
  }

  /** The final state from the job's recorded exit code, if it has one. */
  private Optional<JobState> ended(String jobName, Instant started) {
    Path dir = jobDir(jobName);
    return read(dir.resolve("exit_code"))
        .map(
            exit -> {
              int code = Integer.parseInt(exit.trim());
              Instant finished =
                  read(dir.resolve("finished_at")).map(f -> Instant.parse(f.trim())).orElse(null);
              return new JobState(
                  jobName,
                  code == 0 ? Phase.SUCCEEDED : Phase.FAILED,
                  code,
                  dev.anneal.protocol.ExitCode.describe(code),
                  started,
                  finished);
            });
  }

  @Override
  public void cancel(String jobName) {
    // SIGTERM to the runner: it checkpoints, then exits with PREEMPTED, which its watcher records
    Path dir = jobDir(jobName);
    if (Files.exists(dir.resolve("pid_started"))) {
      recorded(dir.resolve("pid_started")).ifPresent(ProcessHandle::destroy);
      return;
    }
    read(dir.resolve("pid"))
        .flatMap(pid -> ProcessHandle.of(Long.parseLong(pid.trim())))
        .ifPresent(ProcessHandle::destroy);
  }

  /**
   * The runner's events so far, from the job folder's {@code events.jsonl} (its standard output, a
   * batch a line); a line still being written is left out.
   */
  public List<RunnerEvent> events(String jobName) {
    List<RunnerEvent> out = new ArrayList<>();
    for (EventBatch b : eventBatches(jobName)) {
      out.addAll(b.events());
    }
    return out;
  }

  @Override
  public List<EventBatch> eventBatches(String jobName) {
    List<EventBatch> out = new ArrayList<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(jobDir(jobName).resolve("events.jsonl"));
    } catch (IOException e) {
      return out; // not started yet
    }
    for (String line : lines) {
      if (line.isBlank()) continue;
      try {
        out.add(ProtocolJson.readEventBatch(line));
      } catch (RuntimeException partial) {
        // the process is writing this line right now
      }
    }
    return out;
  }

  /** The highest step index the runner has reported metrics for (-1: none yet). */
  public long lastStep(String jobName) {
    return events(jobName).stream()
        .filter(e -> e instanceof RunnerEvent.Metrics)
        .flatMap(e -> ((RunnerEvent.Metrics) e).points().stream())
        .mapToLong(RunnerEvent.MetricPoint::step)
        .max()
        .orElse(-1);
  }

  private static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
