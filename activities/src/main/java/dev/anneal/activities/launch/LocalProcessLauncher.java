package dev.anneal.activities.launch;

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
 * restarts finds its jobs again: a live pid is RUNNING, a recorded exit code is final, and a job
 * that died unseen is UNKNOWN (an infrastructure failure).
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
      List<String> cmd = new ArrayList<>();
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
      Process p = pb.start();
      Files.writeString(dir.resolve("pid"), Long.toString(p.pid()));
      Files.writeString(dir.resolve("started_at"), Instant.now().toString());
      children.put(request.jobName(), p);
      p.onExit().thenAccept(done -> recordExit(dir, done.exitValue()));
      return status(request.jobName());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the runner for " + request, e);
    }
  }

  private static void recordExit(Path dir, int code) {
    try {
      Path tmp = dir.resolve("exit_code.tmp");
      Files.writeString(tmp, Integer.toString(code));
      Files.move(tmp, dir.resolve("exit_code"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      Files.writeString(dir.resolve("finished_at"), Instant.now().toString());
    } catch (IOException e) {
      // the job folder went away; status() will report the job as lost
    }
  }

  @Override
  public JobState status(String jobName) {
    Path dir = jobDir(jobName);
    Instant started = read(dir.resolve("started_at")).map(Instant::parse).orElse(null);
    Optional<String> exit = read(dir.resolve("exit_code"));
    if (exit.isPresent()) {
      int code = Integer.parseInt(exit.get().trim());
      Instant finished = read(dir.resolve("finished_at")).map(Instant::parse).orElse(null);
      return new JobState(
          jobName,
          code == 0 ? Phase.SUCCEEDED : Phase.FAILED,
          code,
          dev.anneal.protocol.ExitCode.describe(code),
          started,
          finished);
    }
    Optional<String> pid = read(dir.resolve("pid"));
    if (pid.isEmpty()) {
      return new JobState(jobName, Phase.UNKNOWN, null, "no such job", null, null);
    }
    Process child = children.get(jobName);
    boolean alive =
        child != null
            ? child.isAlive()
            : ProcessHandle.of(Long.parseLong(pid.get().trim()))
                .map(ProcessHandle::isAlive)
                .orElse(false);
    if (alive) {
      return new JobState(jobName, Phase.RUNNING, null, null, started, null);
    }
    if (child != null) {
      // it just ended; the exit code is being recorded
      int code = child.exitValue();
      recordExit(dir, code);
      return status(jobName);
    }
    return new JobState(
        jobName,
        Phase.UNKNOWN,
        null,
        "the runner process ended while no platform was watching it; its exit code is lost",
        started,
        null);
  }

  @Override
  public void cancel(String jobName) {
    Process child = children.get(jobName);
    if (child != null) {
      child.toHandle().destroy(); // SIGTERM: the runner checkpoints, then exits with PREEMPTED
      return;
    }
    read(jobDir(jobName).resolve("pid"))
        .flatMap(pid -> ProcessHandle.of(Long.parseLong(pid.trim())))
        .ifPresent(ProcessHandle::destroy);
  }

  /**
   * The runner's events so far, from the job folder's {@code events.jsonl} (its standard output, a
   * batch a line); a line still being written is left out.
   */
  public List<RunnerEvent> events(String jobName) {
    List<RunnerEvent> out = new ArrayList<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(jobDir(jobName).resolve("events.jsonl"));
    } catch (IOException e) {
      return out; // not started yet
    }
    for (String line : lines) {
      if (line.isBlank()) continue;
      try {
        out.addAll(ProtocolJson.readEventBatch(line).events());
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
