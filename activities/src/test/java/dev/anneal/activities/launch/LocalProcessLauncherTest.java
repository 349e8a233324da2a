package dev.anneal.activities.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.jobs.JobNames;
import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real child JVMs running the real runner jar (built by the engine module earlier in the build).
 */
class LocalProcessLauncherTest {

  private static final Path RUNNER = Path.of("../gpu-runner/engine/target/anneal-runner.jar");

  @TempDir Path dir;

  @BeforeAll
  static void needsTheRunnerJar() {
    assumeTrue(
        Files.isRegularFile(RUNNER), "run the whole build: the engine module makes " + RUNNER);
  }

  private Path spec(long steps, String inject) throws Exception {
    String json =
        """
        {"team":"t","pipeline":"p","stage":"pretrain","attempt":1,
         "model":{"preset":"micro"},
         "training":{"steps":%d,"batchSize":8,"seqLen":32,"lr":0.002},
         "datasets":[{"name":"prose","key":"synthetic:prose?docs=200"}],
         "checkpoint":{"everySteps":1000},
         "store":{"endpoint":"file:%s","bucket":"local"}%s}
        """
            .formatted(steps, dir.resolve("store"), inject);
    return Files.writeString(dir.resolve("spec-" + steps + inject.hashCode() + ".json"), json);
  }

  private static JobState await(JobLauncher launcher, String job) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    JobState s = launcher.status(job);
    while (!s.terminal() && System.nanoTime() < deadline) {
      Thread.sleep(100);
      s = launcher.status(job);
    }
    return s;
  }

  private LaunchRequest request(String job, Path spec) {
    return new LaunchRequest(
        job,
        "t",
        "p",
        StageKind.PRETRAIN,
        1,
        spec.toString(),
        null,
        null,
        Map.of("ANNEAL_RUNNER_TOKEN", "secret"));
  }

  @Test
  void runsAJobToTheEndAndNeverStartsATwin() throws Exception {
    LocalProcessLauncher launcher =
        new LocalProcessLauncher(RUNNER, dir.resolve("jobs"), List.of());
    String job = JobNames.of("pipeline-p/pretrain", 1);
    Path spec = spec(30, "");
    JobState first = launcher.launch(request(job, spec));
    assertThat(first.phase()).isIn(JobState.Phase.RUNNING, JobState.Phase.SUCCEEDED);
    String pid = Files.readString(launcher.jobDir(job).resolve("pid"));
    launcher.launch(request(job, spec)); // a retried activity
    assertThat(Files.readString(launcher.jobDir(job).resolve("pid"))).isEqualTo(pid);
    // a restarted worker: a new launcher that never saw the job finds it by its name
    LocalProcessLauncher restartedWorker =
        new LocalProcessLauncher(RUNNER, dir.resolve("jobs"), List.of());
    assertThat(restartedWorker.launch(request(job, spec)).phase())
        .isIn(JobState.Phase.RUNNING, JobState.Phase.SUCCEEDED);
    assertThat(Files.readString(launcher.jobDir(job).resolve("pid"))).isEqualTo(pid);

    JobState done = await(launcher, job);
    assertThat(done.phase()).isEqualTo(JobState.Phase.SUCCEEDED);
    assertThat(done.exitCode()).isZero();
    assertThat(Files.readString(launcher.jobDir(job).resolve("events.jsonl")))
        .contains("\"type\":\"finished\"");

    // a platform that restarted reads the same state from the job folder
    LocalProcessLauncher afterRestart =
        new LocalProcessLauncher(RUNNER, dir.resolve("jobs"), List.of());
    assertThat(afterRestart.status(job).phase()).isEqualTo(JobState.Phase.SUCCEEDED);
    assertThat(afterRestart.status("anneal-never-launched").phase())
        .isEqualTo(JobState.Phase.UNKNOWN);
  }

  @Test
  void cancelStopsTheRunnerAfterACheckpointAndACrashIsAFailure() throws Exception {
    LocalProcessLauncher launcher =
        new LocalProcessLauncher(RUNNER, dir.resolve("jobs"), List.of());
    String job = JobNames.of("pipeline-q/pretrain", 1);
    launcher.launch(request(job, spec(100_000, "")));
    Path events = launcher.jobDir(job).resolve("events.jsonl");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(Files.exists(events) && Files.readString(events).contains("\"step\":20,"))
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    launcher.cancel(job);
    JobState stopped = await(launcher, job);
    assertThat(stopped.phase()).isEqualTo(JobState.Phase.FAILED);
    assertThat(stopped.exitCode()).isEqualTo(ExitCode.PREEMPTED.code());
    assertThat(Files.readString(events)).contains("\"type\":\"checkpoint_committed\"");

    String crashJob = JobNames.of("pipeline-r/pretrain", 1);
    launcher.launch(request(crashJob, spec(200, ",\"inject\":{\"crashAtStep\":5}")));
    JobState crashed = await(launcher, crashJob);
    assertThat(crashed.exitCode()).isEqualTo(ExitCode.CRASH.code());
    assertThat(crashed.reason()).isEqualTo("crash: the runner failed unexpectedly");
  }

  @Test
  void theWatcherKeepsTheExitCodeAndAnInterruptStillReachesTheRunner() throws Exception {
    LocalProcessLauncher launcher =
        new LocalProcessLauncher(RUNNER, dir.resolve("jobs"), List.of());
    String job = JobNames.of("pipeline-w/pretrain", 1);
    launcher.launch(request(job, spec(100_000, "")));
    Path events = launcher.jobDir(job).resolve("events.jsonl");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(Files.exists(events) && Files.readString(events).contains("\"step\":10,"))
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    // a Ctrl-C in the terminal: SIGINT to the runner (its watcher gets one too, and lives on)
    long pid = Long.parseLong(Files.readString(launcher.jobDir(job).resolve("pid")).trim());
    assertThat(new ProcessBuilder("/bin/sh", "-c", "kill -INT " + pid).start().waitFor()).isZero();
    // followed only by a launcher that never started it, as after a platform restart: the code
    // comes from the watcher, not from this JVM
    LocalProcessLauncher elsewhere =
        new LocalProcessLauncher(RUNNER, dir.resolve("jobs"), List.of());
    JobState stopped = await(elsewhere, job);
    assertThat(stopped.phase()).isEqualTo(JobState.Phase.FAILED);
    assertThat(stopped.exitCode()).isEqualTo(ExitCode.PREEMPTED.code());
    assertThat(stopped.finishedAt()).isNotNull();
    assertThat(Files.readString(launcher.jobDir(job).resolve("exit_code")))
        .isEqualTo(Integer.toString(ExitCode.PREEMPTED.code()));
  }

  @Test
  void aPidTheSystemGaveToAnotherProgramIsNeitherTheRunnerNorSignalled() throws Exception {
    LocalProcessLauncher launcher =
        new LocalProcessLauncher(RUNNER, dir.resolve("jobs"), List.of());
    String job = JobNames.of("pipeline-x/pretrain", 1);
    Path jobDir = Files.createDirectories(launcher.jobDir(job));
    Process other = new ProcessBuilder("sleep", "60").start();
    try {
      // the runner and its watcher are gone; their pid now belongs to an unrelated process
      String reused = other.pid() + " 2001-01-01T00:00:00Z";
      Files.writeString(jobDir.resolve("pid"), Long.toString(other.pid()));
      Files.writeString(jobDir.resolve("pid_started"), reused);
      Files.writeString(jobDir.resolve("watcher"), reused);
      Files.writeString(jobDir.resolve("started_at"), "2001-01-01T00:00:00Z");

      JobState s = launcher.status(job);
      assertThat(s.phase()).isEqualTo(JobState.Phase.UNKNOWN);
      assertThat(s.reason()).contains("exit code is lost");
      launcher.cancel(job);
      assertThat(other.waitFor(500, java.util.concurrent.TimeUnit.MILLISECONDS))
          .as("the unrelated process was signalled")
          .isFalse();
    } finally {
      other.destroyForcibly();
    }
  }

  @Test
  void jobNamesAreDeterministicKubernetesNames() {
    assertThat(JobNames.attemptOf(JobNames.of("pipeline-p/pretrain", 3))).isEqualTo(3);
    assertThat(JobNames.attemptOf("anneal-something-else")).isEqualTo(-1);
    String a = JobNames.of("tiny-chat-7f3a/Pretrain", 2);
    assertThat(a)
        .isEqualTo(JobNames.of("tiny-chat-7f3a/Pretrain", 2))
        .matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")
        .hasSizeLessThanOrEqualTo(63);
    assertThat(a).isNotEqualTo(JobNames.of("tiny-chat-7f3a/Pretrain", 3));
    assertThat(JobNames.of("x".repeat(200), 1)).hasSizeLessThanOrEqualTo(63);
  }
}
