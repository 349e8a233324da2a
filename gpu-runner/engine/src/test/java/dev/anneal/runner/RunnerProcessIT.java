package dev.anneal.runner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner as a real child process: SIGTERM commits a checkpoint, exit codes, events on stdout.
 */
class RunnerProcessIT {

  @TempDir Path dir;

  private Process start(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                RunnerMain.class.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectError(dir.resolve("stderr.log").toFile()).start();
  }

  private static RunnerEvent event(String line) {
    EventBatch b = ProtocolJson.readEventBatch(line);
    return b.events().get(0);
  }

  @Test
  void sigtermCommitsACheckpointAndExitsPreemptedThenTheRunResumes() throws Exception {
    Path out = dir.resolve("out");
    Process p =
        start(
            "train",
            "--preset",
            "micro",
            "--steps",
            "3000",
            "--every",
            "100000",
            "--seq",
            "32",
            "--batch",
            "8",
            "--out",
            out.toString());
    List<RunnerEvent> events = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      boolean signalled = false;
      while ((line = r.readLine()) != null) {
        RunnerEvent e = event(line);
        events.add(e);
        if (!signalled && e instanceof RunnerEvent.Metrics m && m.points().get(0).step() >= 30) {
          // SIGTERM, as Kubernetes sends on preemption (Process.destroy would close our pipes)
          new ProcessBuilder("kill", "-TERM", String.valueOf(p.pid())).start().waitFor();
          signalled = true;
        }
      }
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as(Files.readString(dir.resolve("stderr.log")))
        .isEqualTo(ExitCode.PREEMPTED.code());
    RunnerEvent.CheckpointCommitted committed =
        events.stream()
            .filter(e -> e instanceof RunnerEvent.CheckpointCommitted)
            .map(e -> (RunnerEvent.CheckpointCommitted) e)
            .reduce((a, b) -> b)
            .orElseThrow();
    assertThat(committed.step()).isGreaterThanOrEqualTo(30).isLessThan(3000);
    assertThat(out.resolve(committed.manifestKey())).exists();

    Process resumed =
        start(
            "train",
            "--preset",
            "micro",
            "--steps",
            String.valueOf(committed.step() + 20),
            "--every",
            "100000",
            "--seq",
            "32",
            "--batch",
            "8",
            "--out",
            out.toString(),
            "--resume",
            committed.manifestKey());
    String all = new String(resumed.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(resumed.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(resumed.exitValue()).isZero();
    assertThat(all)
        .contains("resumed from " + committed.manifestKey() + " at step " + committed.step());
    RunnerEvent last = event(all.strip().lines().reduce((a, b) -> b).orElseThrow());
    assertThat(last).isInstanceOf(RunnerEvent.Finished.class);
    assertThat(((RunnerEvent.Finished) last).finalStep()).isEqualTo(committed.step() + 20);
  }

  @Test
  void exitCodesFollowTheProtocol() throws Exception {
    Path spec =
        Files.writeString(
            dir.resolve("spec.json"),
            "{\"team\":\"t\",\"pipeline\":\"p\",\"stage\":\"pretrain\","
                + "\"attempt\":1,\"training\":{\"steps\":5,\"lr\":-1},\"store\":{\"endpoint\":\"file:"
                + dir
                + "\",\"bucket\":\"b\"},"
                + "\"datasets\":[{\"name\":\"d\",\"key\":\"file:"
                + dir.resolve("missing.jsonl")
                + "\"}]}");
    Process bad = start("--spec", spec.toString());
    assertThat(bad.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(bad.exitValue()).isEqualTo(ExitCode.INVALID_SPEC.code());
    assertThat(Files.readString(dir.resolve("stderr.log"))).contains("training.lr: must be > 0");

    Files.writeString(spec, Files.readString(spec).replace("\"lr\":-1", "\"lr\":0.001"));
    Process missing = start("--spec", spec.toString());
    String out = new String(missing.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(missing.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(missing.exitValue()).isEqualTo(ExitCode.INPUT_MISSING.code());
    RunnerEvent.Failed failed = (RunnerEvent.Failed) event(out.strip());
    assertThat(failed.reason()).contains("missing.jsonl does not exist");

    Process crash =
        start(
            "train",
            "--preset",
            "micro",
            "--steps",
            "50",
            "--crash-at",
            "10",
            "--out",
            dir.resolve("c").toString());
    String crashOut = new String(crash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(crash.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(crash.exitValue()).isEqualTo(ExitCode.CRASH.code());
    assertThat(crashOut).contains("FAULT INJECTION: crashing at step 10");

    Process spike =
        start(
            "train",
            "--preset",
            "micro",
            "--steps",
            "300",
            "--nan-at",
            "40",
            "--out",
            dir.resolve("n").toString());
    String spikeOut = new String(spike.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(spike.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(spike.exitValue()).isEqualTo(ExitCode.INSTABILITY.code());
    assertThat(spikeOut).contains("\"type\":\"instability\"").contains("NON_FINITE_LOSS");
  }

  @Test
  void eventsAreDeliveredToThePlatformOverHttp() throws Exception {
    java.util.List<Long> seqs = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.List<String> auth = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/internal/v1/events",
        ex -> {
          EventBatch b =
              ProtocolJson.readEventBatch(
                  new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          b.events().forEach(e -> seqs.add(e.seq()));
          auth.add(ex.getRequestHeaders().getFirst("Authorization"));
          ex.sendResponseHeaders(204, -1);
          ex.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/internal/v1/events";
      Path spec =
          Files.writeString(
              dir.resolve("spec.json"),
              "{\"team\":\"t\",\"pipeline\":\"p\",\"stage\":\"pretrain\","
                  + "\"attempt\":1,\"model\":{\"preset\":\"micro\"},\"training\":{\"steps\":20,\"batchSize\":4,\"seqLen\":16},"
                  + "\"datasets\":[{\"name\":\"d\",\"key\":\"synthetic:prose?docs=100\"}],"
                  + "\"store\":{\"endpoint\":\"file:"
                  + dir.resolve("store")
                  + "\",\"bucket\":\"b\"},"
                  + "\"events\":{\"url\":\""
                  + url
                  + "\",\"batchSize\":8,\"flushMillis\":50}}");
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  RunnerMain.class.getName(),
                  "--spec",
                  spec.toString()));
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .directory(dir.toFile())
              .redirectError(dir.resolve("stderr.log").toFile());
      pb.environment().put("ANNEAL_RUNNER_TOKEN", "attempt-token");
      Process p = pb.start();
      long lines =
          new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().count();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isZero();
      assertThat(seqs).hasSize((int) lines).isSorted().doesNotHaveDuplicates();
      assertThat(auth).containsOnly("Bearer attempt-token");
      assertThat(dir.resolve("events.spool.jsonl")).exists();
    } finally {
      server.stop(0);
    }
  }
}
