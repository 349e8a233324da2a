package dev.anneal.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.activities.store.ObjectStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import picocli.CommandLine;

/**
 * {@code anneal serve} end to end, in this JVM, on the real embedded stack: PostgreSQL, Temporal's
 * server and s3proxy on free ports under a temporary data dir.
 */
class ServeCommandIT {

  @TempDir Path dir;

  private ConfigurableApplicationContext running;
  private final StringWriter err = new StringWriter();
  private final StringWriter out = new StringWriter();

  @AfterEach
  void stop() {
    if (running != null) {
      running.close();
    }
  }

  private record Result(int status, ConfigurableApplicationContext context) {}

  private Result serve(String... extra) {
    CommandLine cli = AnnealCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    String[] args = new String[extra.length + 1];
    args[0] = "serve";
    System.arraycopy(extra, 0, args, 1, extra.length);
    int status = cli.execute(args);
    ServeCommand serve = cli.getSubcommands().get("serve").getCommand();
    return new Result(status, serve.context);
  }

  /** Serve options for an embedded stack on {@code dataDir}, every port picked free. */
  private static String[] onFreePorts(Path dataDir) {
    return new String[] {
      "--port",
      "0",
      "--data-dir",
      dataDir.toString(),
      "--pg-port",
      "0",
      "--temporal-port",
      "0",
      "--s3-port",
      "0"
    };
  }

  private Result serveOn(Path dataDir) {
    return serve(onFreePorts(dataDir));
  }

  private static HttpResponse<String> get(ConfigurableApplicationContext ctx, String path)
      throws Exception {
    String port = ctx.getEnvironment().getProperty("local.server.port");
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void everyComponentIsUpAndDataSurvivesARestart() throws Exception {
    Path data = dir.resolve("data");
    Result first = serveOn(data);
    assertThat(first.status()).as(err.toString()).isZero();
    running = first.context();

    HttpResponse<String> health = get(running, "/actuator/health");
    assertThat(health.statusCode()).isEqualTo(200);
    JsonNode components = new ObjectMapper().readTree(health.body()).get("components");
    for (String c : new String[] {"db", "temporal", "objectStore"}) {
      assertThat(components.get(c).get("status").asText()).as(c).isEqualTo("UP");
    }
    assertThat(get(running, "/actuator/prometheus").body()).contains("jvm_memory_used_bytes");
    assertThat(get(running, "/").body()).contains("<div id=\"root\"></div>");

    UUID team = UUID.randomUUID();
    running
        .getBean(JdbcTemplate.class)
        .update("INSERT INTO teams (id, name) VALUES (?, 'research')", team);
    running
        .getBean(ObjectStore.class)
        .put("teams/research/notes.txt", "kept".getBytes(StandardCharsets.UTF_8), "text/plain");
    running.close();
    running = null;

    Result second = serveOn(data);
    assertThat(second.status()).as(err.toString()).isZero();
    running = second.context();
    assertThat(
            running
                .getBean(JdbcTemplate.class)
                .queryForObject("SELECT name FROM teams WHERE id = ?", String.class, team))
        .isEqualTo("research");
    assertThat(running.getBean(ObjectStore.class).get("teams/research/notes.txt"))
        .asString(StandardCharsets.UTF_8)
        .isEqualTo("kept");
  }

  @Test
  void aSecondServeOnTheSameDataDirOrPortsFailsWithOneLine() throws Exception {
    Result first = serveOn(dir.resolve("a"));
    assertThat(first.status()).as(err.toString()).isZero();
    running = first.context();

    Result sameDir = serveOn(dir.resolve("a"));
    assertThat(sameDir.status()).isEqualTo(1);
    assertThat(err.toString().strip().lines())
        .singleElement()
        .asString()
        .startsWith("anneal: cannot start: data dir: ")
        .contains(
            "is in use by another Anneal process (pid " + ProcessHandle.current().pid() + ")");

    err.getBuffer().setLength(0);
    String pgPort =
        URI.create(running.getEnvironment().getProperty("spring.datasource.url").substring(5))
                .getPort()
            + "";
    Result samePort =
        serve("--port", "0", "--data-dir", dir.resolve("b").toString(), "--pg-port", pgPort);
    assertThat(samePort.status()).isEqualTo(1);
    assertThat(err.toString().strip().lines())
        .singleElement()
        .asString()
        .isEqualTo(
            "anneal: cannot start: PostgreSQL: port "
                + pgPort
                + " on 127.0.0.1 is already in use"
                + " — stop the process that holds it (another 'anneal serve'?) or choose another"
                + " port with --pg-port or anneal.embedded.postgres-port");
    // the failed start released its own data dir again
    Result afterwards = serveOn(dir.resolve("b"));
    assertThat(afterwards.status()).as(err.toString()).isZero();
    afterwards.context().close();
  }

  /** {@code anneal serve} in a JVM of its own, so that it can be killed as a crash kills it. */
  private static Process serveInAChildJvm(Path dataDir, Path log) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                System.getProperty("java.class.path"),
                AnnealCli.class.getName(),
                "serve"));
    command.addAll(List.of(onFreePorts(dataDir)));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  @Test
  void theServerAKilledServeLeftRunningIsStoppedByTheNextStart() throws Exception {
    Path data = dir.resolve("crashed");
    Path log = dir.resolve("child.log");
    Process child = serveInAChildJvm(data, log);
    Path pidFile = data.resolve("postgres/postmaster.pid");
    long orphanPid = -1;
    try {
      long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      while (!(Files.exists(log) && Files.readString(log).contains("Started "))) {
        assertThat(child.isAlive()).as("the child serve died: %s", Files.readString(log)).isTrue();
        assertThat(System.nanoTime()).as("the child serve did not start").isLessThan(deadline);
        Thread.sleep(200);
      }
      List<String> pg = Files.readAllLines(pidFile);
      orphanPid = Long.parseLong(pg.get(0).trim());
      int pgPort = Integer.parseInt(pg.get(3).trim());

      child.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook runs
      assertThat(ProcessHandle.of(orphanPid).map(ProcessHandle::isAlive))
          .as("PostgreSQL outlives the killed JVM")
          .contains(true);

      // the same port as before, as with the default 15432: the orphan holds it
      Result again =
          serve(
              "--port",
              "0",
              "--data-dir",
              data.toString(),
              "--pg-port",
              Integer.toString(pgPort),
              "--temporal-port",
              "0",
              "--s3-port",
              "0");
      assertThat(again.status()).as(err.toString()).isZero();
      running = again.context();
      assertThat(ProcessHandle.of(orphanPid).map(ProcessHandle::isAlive))
          .isNotEqualTo(Optional.of(true));
      assertThat(
              running
                  .getBean(JdbcTemplate.class)
                  .queryForObject("SELECT count(*) FROM flyway_schema_history", Integer.class))
          .isPositive();
      assertThat(Long.parseLong(Files.readAllLines(pidFile).get(0).trim())).isNotEqualTo(orphanPid);
    } finally {
      child.destroyForcibly();
      if (orphanPid > 0) {
        ProcessHandle.of(orphanPid).ifPresent(ProcessHandle::destroy);
      }
    }
  }

  @Test
  void aStalePidFileFromAnotherProcessIsRemoved() throws Exception {
    Path data = dir.resolve("stale");
    Result first = serveOn(data);
    assertThat(first.status()).as(err.toString()).isZero();
    first.context().close();
    // as if the machine rebooted and the pid went to another program: this JVM is no postgres
    Path pgData = data.resolve("postgres");
    Files.writeString(
        pgData.resolve("postmaster.pid"),
        ProcessHandle.current().pid() + "\n" + pgData + "\n0\n15432\n");
    Result again = serveOn(data);
    assertThat(again.status()).as(err.toString()).isZero();
    running = again.context();
  }

  @Test
  void anUnwritableDataDirIsNamed() throws Exception {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    Result r = serveOn(file.resolve("data"));
    assertThat(r.status()).isEqualTo(1);
    assertThat(err.toString().strip().lines())
        .singleElement()
        .asString()
        .startsWith("anneal: cannot start: data dir: " + file.resolve("data") + " is not writable")
        .endsWith(
            "fix its permissions or choose another with --data-dir or anneal.embedded.data-dir");
  }

  @Test
  void anUnreachableExternalDatabaseIsNamedInClusterMode() {
    Result r =
        serve(
            "--port",
            "0",
            "--no-embedded",
            "--set",
            "spring.datasource.url=jdbc:postgresql://127.0.0.1:1/anneal",
            "--set",
            "spring.datasource.username=anneal");
    assertThat(r.status()).isEqualTo(1);
    assertThat(err.toString().strip().lines())
        .singleElement()
        .asString()
        .startsWith(
            "anneal: cannot start: PostgreSQL: cannot connect to jdbc:postgresql://127.0.0.1:1/anneal")
        .endsWith(
            "check spring.datasource.url, username and password, and that the server is reachable");
  }

  @Test
  void anUnreachableTemporalIsNamedInClusterMode() throws Exception {
    // a real PostgreSQL answers; Temporal does not
    Result withStack = serveOn(dir.resolve("pg"));
    running = withStack.context();
    String url = running.getEnvironment().getProperty("spring.datasource.url");
    err.getBuffer().setLength(0);
    Result r =
        serve(
            "--port",
            "0",
            "--no-embedded",
            "--set",
            "spring.datasource.url=" + url,
            "--set",
            "spring.datasource.username=postgres",
            "--set",
            "anneal.temporal.target=127.0.0.1:1");
    assertThat(r.status()).isEqualTo(1);
    assertThat(err.toString().strip().lines())
        .singleElement()
        .asString()
        .startsWith("anneal: cannot start: Temporal: cannot reach 127.0.0.1:1")
        .endsWith("check anneal.temporal.target and that the Temporal frontend is running");
  }
}
