package dev.anneal.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import picocli.CommandLine;

/**
 * The crash-and-restart drill: {@code anneal serve} (a JVM of its own) is killed with SIGKILL in
 * the middle of a two-stage pipeline, and a new {@code anneal serve} on the same data dir carries
 * it on from what PostgreSQL holds. Its first stage stays done; the second stage's runner, which
 * outlived the platform, is re-attached (never a second runner) and the pipeline succeeds; a person
 * can still act on it.
 */
class CrashRecoveryIT {

  private static final Path RUNNER = Path.of("../gpu-runner/engine/target/anneal-runner.jar");
  private static final Pattern HTTP_PORT = Pattern.compile("Tomcat started on port[^0-9]*(\\d+)");

  @TempDir Path dir;
  private ConfigurableApplicationContext running;
  private Process child;

  @AfterEach
  void stop() {
    if (running != null) running.close();
    if (child != null) child.destroyForcibly();
  }

  private static final String SPEC =
      """
      apiVersion: anneal.dev/v1
      kind: Pipeline
      metadata: {name: crash-drill}
      model: {preset: micro}
      tokenizer: {vocabSize: 300}
      datasets:
        - {name: prose, source: "synthetic:prose?docs=300"}
        - {name: chat, source: "synthetic:chat?docs=200"}
      stages:
        - kind: pretrain
          data: [{dataset: prose}]
          hyperparameters: {steps: 30, batchSize: 8, seqLen: 32, lr: 0.002}
          checkpoint: {everySteps: 10}
        - kind: sft
          from: pretrain
          data: [{dataset: chat}]
          hyperparameters: {steps: 400, batchSize: 8, seqLen: 32, lr: 0.002}
          checkpoint: {everySteps: 20}
      """;

  /** A second pipeline, whose runner dies with the platform (its watcher too: nothing is left). */
  private static final String LOST =
      """
      apiVersion: anneal.dev/v1
      kind: Pipeline
      metadata: {name: crash-drill-lost}
      model: {preset: micro}
      tokenizer: {vocabSize: 300}
      datasets:
        - {name: prose, source: "synthetic:prose?docs=300"}
      stages:
        - kind: pretrain
          data: [{dataset: prose}]
          hyperparameters: {steps: 300, batchSize: 8, seqLen: 32, lr: 0.002}
          checkpoint: {everySteps: 20}
      """;

  /**
   * The same HTTP and S3 ports both times, as with the defaults (8080, 9000): a runner that
   * outlived its platform finds the new one where the old one was.
   */
  private final int apiPort = freePort();

  private final int s3Port = freePort();

  private static int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private String[] serveArgs(Path data) {
    return new String[] {
      "serve",
      "--port",
      Integer.toString(apiPort),
      "--data-dir",
      data.toString(),
      "--pg-port",
      "0",
      "--temporal-port",
      "0",
      "--s3-port",
      Integer.toString(s3Port),
      "--set",
      "anneal.runner.jar=" + RUNNER
    };
  }

  @Test
  void aPipelineGoesOnAfterTheServerIsKilledAndStartedAgain() throws Exception {
    assumeTrue(Files.isRegularFile(RUNNER), "run the whole build: the engine module makes it");
    Path data = dir.resolve("data");
    String token = serveInItsOwnJvm(data, false);
    String api = "http://127.0.0.1:" + apiPort;

    JsonNode submitted = post(api, token, "/api/v1/pipelines", SPEC, "application/yaml");
    UUID pipeline = UUID.fromString(submitted.path("id").asText());
    UUID lost =
        UUID.fromString(
            post(api, token, "/api/v1/pipelines", LOST, "application/yaml").path("id").asText());
    Path jobs = data.resolve("jobs");
    // the second stage's runner is past its first checkpoint: kill the platform under it
    await(
        "the second stage's runner to checkpoint",
        Duration.ofMinutes(4),
        () -> secondStageCheckpointed(jobs));
    await(
        "the other pipeline's runner to checkpoint",
        Duration.ofMinutes(2),
        () -> {
          Path j = job(jobs, "\"pipeline\":\"crash-drill-lost-");
          return j != null && read(j.resolve("events.jsonl")).contains("checkpoint_committed");
        });
    Path runnerJob = secondStageJob(jobs);
    long runnerPid = Long.parseLong(Files.readString(runnerJob.resolve("pid")).trim());
    Path lostJob = job(jobs, "\"pipeline\":\"crash-drill-lost-");
    child.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no goodbye
    // the other runner and its watcher die too, as in a reboot: its exit code is never written
    for (String f : List.of("watcher", "pid")) {
      long pid = Long.parseLong(Files.readString(lostJob.resolve(f)).trim().split(" ")[0]);
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    assertThat(ProcessHandle.of(runnerPid).map(ProcessHandle::isAlive))
        .as("the runner outlives the platform")
        .contains(true);

    // a new platform on the same data dir (its PostgreSQL orphan is stopped first)
    JdbcTemplate jdbc = serveHere(data);

    awaitEnd(jdbc, pipeline);
    awaitEnd(jdbc, lost);
    Map<String, Object> p =
        jdbc.queryForMap("SELECT status, failure_reason FROM pipelines WHERE id = ?", pipeline);
    assertThat(p.get("status")).as(String.valueOf(p.get("failure_reason"))).isEqualTo("SUCCEEDED");

    // the first stage ran once; the second kept its one attempt: the runner was re-attached
    List<Map<String, Object>> attempts =
        jdbc.queryForList(
            "SELECT s.position, a.number, a.status, a.exit_code, a.reason FROM attempts a"
                + " JOIN stages s ON s.id = a.stage_id WHERE s.pipeline_id = ?"
                + " ORDER BY s.position, a.number",
            pipeline);
    assertThat(attempts)
        .as(
            "%s%nrunner.log of the re-attached job:%n%s%nits folder: %s",
            attempts,
            tail(runnerJob.resolve("runner.log")),
            Files.list(runnerJob).map(f -> f.getFileName() + "=" + tail(f)).toList())
        .extracting(a -> a.get("position") + "/" + a.get("number") + "/" + a.get("status"))
        .containsExactly("0/1/SUCCEEDED", "1/1/SUCCEEDED");
    try (var s = Files.list(jobs)) {
      // two for the first pipeline (a stage each: never a second runner), two for the other
      assertThat(s.count()).isEqualTo(4);
    }
    assertResumedFromItsNewestCheckpoint(jdbc, lost);
    assertThat(
            jdbc.queryForObject(
                "SELECT final_checkpoint FROM stages WHERE pipeline_id = ? AND position = 1",
                String.class,
                pipeline))
        .endsWith("/step-00000400-a1/manifest.json");
    // every step of the second stage stored once, also those sent while no platform listened
    assertThat(
            jdbc.queryForObject(
                "SELECT count(*) FROM metrics m JOIN stages s ON s.id = m.stage_id"
                    + " WHERE s.pipeline_id = ? AND s.position = 1 AND m.name = 'loss'",
                Long.class,
                pipeline))
        .isEqualTo(400L);
    assertThat(
            jdbc.queryForList(
                "SELECT message FROM events WHERE pipeline_id = ? AND type = 'stage'",
                String.class,
                pipeline))
        .anyMatch(
            msg ->
                msg.startsWith(
                    "the platform restarted and this pipeline's workflow was gone; rebuilt from"
                        + " PostgreSQL: stages done: pretrain; stage sft re-attached to attempt 1"));
  }

  /**
   * Ctrl-C in the terminal: SIGINT to the whole foreground process group — the platform, its
   * runners and their watchers. The runner commits a checkpoint and exits PREEMPTED (its watcher
   * records the code), the platform stops its embedded services cleanly, and the next start resumes
   * the stage from that checkpoint.
   */
  @Test
  void aCtrlCStopsEverythingCleanlyAndTheNextStartResumesFromTheCheckpointItMade()
      throws Exception {
    assumeTrue(Files.isRegularFile(RUNNER), "run the whole build: the engine module makes it");
    Path data = dir.resolve("data");
    String token = serveInItsOwnJvm(data, true);
    UUID id =
        UUID.fromString(
            post(
                    "http://127.0.0.1:" + apiPort,
                    token,
                    "/api/v1/pipelines",
                    LOST,
                    "application/yaml")
                .path("id")
                .asText());
    Path jobs = data.resolve("jobs");
    String marker = "\"pipeline\":\"crash-drill-lost-";
    await(
        "the runner to checkpoint",
        Duration.ofMinutes(3),
        () -> {
          Path j = job(jobs, marker);
          return j != null && read(j.resolve("events.jsonl")).contains("checkpoint_committed");
        });
    Path job = job(jobs, marker);
    // a terminal's Ctrl-C: the serve runs in a session of its own, so its group is its pid
    assertThat(new ProcessBuilder("/bin/sh", "-c", "kill -INT -" + child.pid()).start().waitFor())
        .isZero();
    assertThat(child.waitFor(90, java.util.concurrent.TimeUnit.SECONDS))
        .as("the serve stops on Ctrl-C")
        .isTrue();
    await(
        "the runner's watcher to record its exit",
        Duration.ofSeconds(60),
        () -> Files.exists(job.resolve("exit_code")));
    assertThat(read(job.resolve("exit_code"))).isEqualTo("6"); // PREEMPTED: checkpointed first
    assertThat(data.resolve("postgres/postmaster.pid"))
        .as("PostgreSQL stopped cleanly")
        .doesNotExist();
    long stoppedAt = lastCheckpointStep(job);

    JdbcTemplate jdbc = serveHere(data);
    awaitEnd(jdbc, id);
    List<Map<String, Object>> attempts =
        jdbc.queryForList(
            "SELECT a.number, a.status, a.exit_code, a.resume_step FROM attempts a"
                + " JOIN stages s ON s.id = a.stage_id WHERE s.pipeline_id = ? ORDER BY a.number",
            id);
    assertThat(jdbc.queryForObject("SELECT status FROM pipelines WHERE id = ?", String.class, id))
        .as(String.valueOf(attempts))
        .isEqualTo("SUCCEEDED");
    assertThat(attempts).as(String.valueOf(attempts)).hasSize(2);
    assertThat(attempts.get(0)).containsEntry("status", "CRASHED").containsEntry("exit_code", 6);
    assertThat(attempts.get(1))
        .containsEntry("status", "SUCCEEDED")
        .containsEntry("resume_step", stoppedAt);
  }

  private void awaitEnd(JdbcTemplate jdbc, UUID pipeline) throws Exception {
    await(
        "pipeline " + pipeline + " to end",
        Duration.ofMinutes(5),
        () ->
            List.of("SUCCEEDED", "FAILED", "CANCELLED")
                .contains(
                    jdbc.queryForObject(
                        "SELECT status FROM pipelines WHERE id = ?", String.class, pipeline)));
  }

  /** The step of the newest checkpoint the job's runner committed. */
  private static long lastCheckpointStep(Path job) {
    Matcher m =
        Pattern.compile("\"type\":\"checkpoint_committed\",[^}]*?\"step\":(\\d+)")
            .matcher(read(job.resolve("events.jsonl")));
    long last = -1;
    while (m.find()) last = Long.parseLong(m.group(1));
    assertThat(last).as("a checkpoint in " + job).isPositive();
    return last;
  }

  /**
   * Starts {@code anneal serve} in a JVM of its own ({@code session}: in a session and process
   * group of its own, as a shell starts it in a terminal) and returns the bootstrap token.
   */
  private String serveInItsOwnJvm(Path data, boolean session) throws Exception {
    Path log = dir.resolve("first-serve.log");
    List<String> cmd = new ArrayList<>();
    if (session) cmd.add("setsid");
    cmd.addAll(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx768m",
            "-cp",
            System.getProperty("java.class.path"),
            AnnealCli.class.getName()));
    cmd.addAll(List.of(serveArgs(data)));
    child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    await(
        "the first serve to start",
        Duration.ofMinutes(3),
        () -> HTTP_PORT.matcher(read(log)).find() && Files.exists(data.resolve("bootstrap-token")));
    return Files.readString(data.resolve("bootstrap-token")).trim();
  }

  /** {@code anneal serve} in this JVM on the same data dir and ports; its database. */
  private JdbcTemplate serveHere(Path data) {
    StringWriter err = new StringWriter();
    CommandLine cli = AnnealCli.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));
    assertThat(cli.execute(serveArgs(data))).as(err.toString()).isZero();
    running = ((ServeCommand) cli.getSubcommands().get("serve").getCommand()).context;
    return running.getBean(JdbcTemplate.class);
  }

  /** The other pipeline: its job was gone, so a new attempt resumed from its newest checkpoint. */
  private static void assertResumedFromItsNewestCheckpoint(JdbcTemplate jdbc, UUID lost) {
    List<Map<String, Object>> attempts =
        jdbc.queryForList(
            "SELECT a.number, a.status, a.reason, a.resume_step FROM attempts a"
                + " JOIN stages s ON s.id = a.stage_id WHERE s.pipeline_id = ? ORDER BY a.number",
            lost);
    assertThat(attempts).hasSize(2);
    assertThat(attempts.get(0))
        .containsEntry("status", "CRASHED")
        .containsEntry("reason", "lost: the platform restarted and this attempt's job was gone");
    assertThat(attempts.get(1)).containsEntry("status", "SUCCEEDED");
    assertThat((Long) attempts.get(1).get("resume_step")).isPositive();
    assertThat(jdbc.queryForObject("SELECT status FROM pipelines WHERE id = ?", String.class, lost))
        .isEqualTo("SUCCEEDED");
    assertThat(
            jdbc.queryForObject(
                "SELECT restarts FROM stages WHERE pipeline_id = ?", Integer.class, lost))
        .as("a platform restart does not spend the stage's restart budget")
        .isZero();
  }

  private static boolean secondStageCheckpointed(Path jobs) {
    Path job = secondStageJob(jobs);
    return job != null && read(job.resolve("events.jsonl")).contains("checkpoint_committed");
  }

  /** The job folder of the second stage: its runner's events are addressed to the sft stage. */
  private static Path secondStageJob(Path jobs) {
    return job(jobs, "\"stage\":\"sft\"");
  }

  /** The job folder whose runner's events contain {@code marker}. */
  private static Path job(Path jobs, String marker) {
    if (!Files.isDirectory(jobs)) return null;
    try (var s = Files.list(jobs)) {
      return s.filter(p -> read(p.resolve("events.jsonl")).contains(marker))
          .findFirst()
          .orElse(null);
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static JsonNode post(String api, String token, String path, String body, String type)
      throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(api + path))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
    return new ObjectMapper().readTree(r.body());
  }

  private static String tail(Path file) {
    String s = read(file);
    return s.length() > 1500 ? s.substring(s.length() - 1500) : s;
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }

  private void await(String what, Duration limit, BooleanSupplier done) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!done.getAsBoolean()) {
      if (child != null && !child.isAlive() && running == null && what.contains("first serve")) {
        throw new AssertionError("the first serve died:\n" + read(dir.resolve("first-serve.log")));
      }
      assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
      Thread.sleep(200);
    }
  }
}
