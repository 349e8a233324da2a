package dev.anneal.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.StageRunner;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.exec.ExecRun;
import dev.anneal.runner.exec.ReferenceEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ranks in an engine container of their own (on Kubernetes, the team's image beside the
 * runner's, sharing only the work volume): here the "engine container" is a process started with an
 * empty environment ({@code env -i}) that waits for the wrapper's go and runs the launch script it
 * wrote. The ranks train to the end, a killed rank is named, and when the wrapper dies the engine
 * side kills its ranks on its own once the heartbeat goes stale.
 */
class SidecarRanksTest {

  @TempDir Path dir;

  private RunSpec spec(long steps) {
    return MicroRuns.pretrain(dir, steps, 9L, 10, List.of(MicroRuns.PROSE)).build();
  }

  /** The engine container: nothing of the wrapper's environment, only the shared directory. */
  private static Process engineSide(Path work) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("env", "-i", "PATH=/usr/bin:/bin", "HOME=/tmp"));
    cmd.addAll(entrypoint(work));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  private static List<String> entrypoint(Path work) {
    return dev.anneal.protocol.ExecSidecar.entrypoint(work.toString());
  }

  private record Run(int code, List<RunnerEvent> events) {}

  private CompletableFuture<Run> wrapper(RunSpec spec, Path work, int ranks) throws Exception {
    ReferenceEngine.Program engine = ReferenceEngine.install(work.resolve("engine"));
    return CompletableFuture.supplyAsync(
        () -> {
          EventLog events = new EventLog("t", "p", StageKind.PRETRAIN, 1, line -> {});
          try {
            int code =
                ExecRun.run(
                    spec,
                    StageRunner.store(spec.store()),
                    events,
                    new ExecRun.Options(
                        engine.command(),
                        ranks,
                        ExecRun.Rendezvous.single(),
                        work,
                        null,
                        engine.env(),
                        20,
                        5_000,
                        120_000,
                        true));
            return new Run(code, events.events());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  @Test
  void ranksInAnEngineContainerTrainToTheEndAndAKilledOneIsNamed() throws Exception {
    Python.assumeTorch();
    Path work = dir.resolve("w");
    CompletableFuture<Run> run = wrapper(spec(30), work, 2);
    Process engine = engineSide(work);
    Run r = run.get(120, TimeUnit.SECONDS);
    assertThat(r.code()).as(r.events().toString()).isZero();
    assertThat(r.events()).anyMatch(RunnerEvent.Finished.class::isInstance);
    assertThat(engine.waitFor(30, TimeUnit.SECONDS))
        .as("the engine side ends with its ranks")
        .isTrue();
    // the script hands the ranks the contract's variables and nothing else of the wrapper's
    String script = Files.readString(work.resolve("ranks/launch.sh"));
    assertThat(script).contains("export RANK='1'").contains("export ANNEAL_TOKENS=");
    assertThat(script).doesNotContain("ANNEAL_S3_").doesNotContain("ANNEAL_RUNNER_TOKEN");

    Path w2 = dir.resolve("w2");
    CompletableFuture<Run> second = wrapper(spec(100_000), w2, 2);
    Process engine2 = engineSide(w2);
    Path pid = w2.resolve("ranks/pid-1");
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline
        && !(Files.exists(w2.resolve("metrics.jsonl"))
            && Files.readAllLines(w2.resolve("metrics.jsonl")).size() >= 3)) {
      Thread.sleep(20);
    }
    ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).orElseThrow().destroyForcibly();
    Run killed = second.get(120, TimeUnit.SECONDS);
    assertThat(killed.code()).isEqualTo(1);
    assertThat(killed.events())
        .anyMatch(
            e ->
                e instanceof RunnerEvent.Failed f
                    && f.reason().startsWith("rank 1 was killed by signal 9"));
    assertThat(engine2.waitFor(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void anEngineContainerWhoseRanksWillNeverStartIsReleased() throws Exception {
    Python.assumeTorch();
    Path work = dir.resolve("w");
    Process engine = engineSide(work);
    // refused before any rank starts (two datasets): the wrapper abandons the engine side
    RunSpec mixture =
        dev.anneal.protocol.RunSpecBuilder.builder(spec(10))
            .datasets(
                List.of(
                    new DatasetRef("a", "synthetic:prose?docs=50", null, 1.0, null),
                    new DatasetRef("b", "synthetic:code?docs=50", null, 1.0, null)))
            .build();
    assertThat(wrapper(mixture, work, 1).get(60, TimeUnit.SECONDS).code()).isEqualTo(2);
    assertThat(engine.waitFor(10, TimeUnit.SECONDS)).as("released by abandon").isTrue();
    assertThat(engine.exitValue()).isZero();
  }

  @Test
  void whenTheWrapperDiesTheEngineSideKillsItsRanks() throws Exception {
    Path jar = Python.runnerJar();
    Path work = dir.resolve("w");
    Path specFile = dir.resolve("spec.json");
    Files.writeString(specFile, ProtocolJson.write(spec(100_000)));
    Process wrapper =
        Python.exec(
                jar, specFile, work.toString(), "--ranks", "2", "--sidecar", "--engine", "torch")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out").toFile())
            .start();
    Process engine = engineSide(work);
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline
        && !(Files.exists(work.resolve("metrics.jsonl"))
            && Files.readAllLines(work.resolve("metrics.jsonl")).size() >= 3)) {
      Thread.sleep(20);
    }
    assertThat(engine.isAlive()).as(Files.readString(dir.resolve("out"))).isTrue();
    wrapper.destroyForcibly().waitFor();
    // no pdeathsig across containers: the stale heartbeat is the engine side's cue
    assertThat(engine.waitFor(40, TimeUnit.SECONDS)).as("the engine side gave up").isTrue();
    long left =
        ProcessHandle.allProcesses()
            .filter(p -> p.info().commandLine().orElse("").contains("anneal_torch.train"))
            .filter(p -> Python.cwd(p).startsWith(work.toString()))
            .count();
    assertThat(left).as("ranks left after the wrapper died").isZero();
  }
}
