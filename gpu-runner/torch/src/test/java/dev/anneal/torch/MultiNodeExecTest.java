package dev.anneal.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.StageRunner;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.exec.ExecRun;
import dev.anneal.runner.exec.ReferenceEngine;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run across nodes, with two wrappers on this machine standing in for two pods: each starts its
 * node's ranks with global ranks and the master's address, the leader (node 0) reports the attempt
 * and the follower only runs its ranks. The curve is the one-node curve of the same world size (the
 * global batch does not depend on where the ranks are); a rank killed on the follower ends both
 * nodes, and the follower names it. Ranks never see the platform's credentials.
 */
class MultiNodeExecTest {

  @TempDir Path dir;

  private RunSpec spec(long steps) {
    return spec(steps, "p");
  }

  private RunSpec spec(long steps, String pipeline) {
    return MicroRuns.pretrain(dir, steps, 3L, 10, List.of(MicroRuns.PROSE))
        .pipeline(pipeline)
        .build();
  }

  record Node(int code, List<RunnerEvent> events) {
    List<Double> losses() {
      List<Double> out = new ArrayList<>();
      for (RunnerEvent e : events) {
        if (e instanceof RunnerEvent.Metrics m) {
          m.points().stream().filter(p -> p.name().equals("loss")).forEach(p -> out.add(p.value()));
        }
      }
      return out;
    }

    String logs() {
      return events.stream()
          .filter(RunnerEvent.Log.class::isInstance)
          .map(e -> ((RunnerEvent.Log) e).message())
          .toList()
          .toString();
    }
  }

  private Node node(RunSpec spec, int ranks, ExecRun.Rendezvous rv, String name) throws Exception {
    Path work = dir.resolve(name);
    ReferenceEngine.Program engine = ReferenceEngine.install(work.resolve("engine"));
    EventLog events = new EventLog("t", "p", StageKind.PRETRAIN, 1, line -> {});
    int code =
        ExecRun.run(
            spec,
            StageRunner.store(spec.store()),
            events,
            new ExecRun.Options(
                engine.command(), ranks, rv, work, null, engine.env(), 10, 5_000, 120_000, false));
    return new Node(code, events.events());
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void twoNodesOfOneRankFollowTheCurveOfOneNodeOfTwo() throws Exception {
    Python.assumeTorch();
    Node one = node(spec(20, "one-node"), 2, ExecRun.Rendezvous.single(), "one");
    assertThat(one.code()).as(one.events().toString()).isZero();

    int port = freePort();
    CompletableFuture<Node> follower =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return node(
                    spec(20), 1, new ExecRun.Rendezvous(2, 1, "127.0.0.1", port), "follower");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Node leader = node(spec(20), 1, new ExecRun.Rendezvous(2, 0, "127.0.0.1", port), "leader");
    Node f = follower.get(120, TimeUnit.SECONDS);
    assertThat(leader.code()).as(leader.events().toString()).isZero();
    assertThat(f.code()).as(f.events().toString()).isZero();

    List<Double> a = one.losses();
    List<Double> b = leader.losses();
    assertThat(b).hasSize(20);
    for (int i = 0; i < a.size(); i++) {
      assertThat(Math.abs(a.get(i) - b.get(i)) / a.get(i))
          .as("step %d: one node %s, two nodes %s", i, a.get(i), b.get(i))
          .isLessThan(1e-4);
    }
    // the leader reports the attempt; the follower's events are log lines only
    assertThat(leader.events()).anyMatch(RunnerEvent.Finished.class::isInstance);
    assertThat(f.events()).allMatch(RunnerEvent.Log.class::isInstance);
    assertThat(f.logs()).contains("node 1 of 2").contains("every rank ended well");
    // only global rank 0, on the leader, writes metrics and checkpoints
    assertThat(dir.resolve("follower/metrics.jsonl")).doesNotExist();
    try (var c = Files.list(dir.resolve("follower/checkpoints"))) {
      assertThat(c).isEmpty();
    }
  }

  @Test
  void aRankKilledOnTheFollowerEndsBothNodesAndIsNamed() throws Exception {
    Python.assumeTorch();
    int port = freePort();
    Path mark = dir.resolve("follower/logs");
    CompletableFuture<Node> follower =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return node(
                    spec(100_000), 1, new ExecRun.Rendezvous(2, 1, "127.0.0.1", port), "follower");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    CompletableFuture<Node> leader =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return node(
                    spec(100_000), 1, new ExecRun.Rendezvous(2, 0, "127.0.0.1", port), "leader");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Path metrics = dir.resolve("leader/metrics.jsonl");
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline
        && !(Files.exists(metrics) && Files.readAllLines(metrics).size() >= 3)) {
      Thread.sleep(20);
    }
    // the follower's one rank: global rank 1, its work directory under follower/
    ProcessHandle rank =
        ProcessHandle.allProcesses()
            .filter(p -> p.info().commandLine().orElse("").contains("anneal_torch.train"))
            .filter(p -> Python.cwd(p).startsWith(dir.resolve("follower").toString()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no rank under " + mark));
    rank.destroyForcibly();
    Node f = follower.get(120, TimeUnit.SECONDS);
    Node l = leader.get(120, TimeUnit.SECONDS);
    assertThat(f.code()).isEqualTo(1);
    assertThat(f.logs()).contains("node 1: rank 1 was killed by signal 9 (SIGKILL");
    assertThat(l.code()).as("the leader's rank loses its peer").isEqualTo(1);
    assertThat(l.events()).anyMatch(RunnerEvent.Failed.class::isInstance);
  }

  @Test
  void ranksNeverSeeThePlatformsCredentials() throws Exception {
    Path jar = Python.runnerJar();
    Path specFile = dir.resolve("spec.json");
    Files.writeString(specFile, ProtocolJson.write(spec(10)));
    Path seen = dir.resolve("rank-env.txt");
    ProcessBuilder pb =
        Python.exec(jar, specFile, dir.resolve("w").toString(), "--", "sh", "-c", "env > " + seen)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out").toFile());
    pb.environment().put(ObjectStoreTarget.ACCESS_KEY_ENV, "platform-access-key");
    pb.environment().put(ObjectStoreTarget.SECRET_KEY_ENV, "platform-secret-key");
    pb.environment().put("ANNEAL_RUNNER_TOKEN", "anr_attempt-token");
    pb.environment().put("AWS_SECRET_ACCESS_KEY", "aws-secret");
    Process wrapper = pb.start();
    assertThat(wrapper.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String env = Files.readString(seen);
    assertThat(env).contains("RANK=0").contains("ANNEAL_RUN_SPEC=");
    assertThat(env)
        .doesNotContain("platform-access-key")
        .doesNotContain("platform-secret-key")
        .doesNotContain("anr_attempt-token")
        .doesNotContain("aws-secret");
  }
}
