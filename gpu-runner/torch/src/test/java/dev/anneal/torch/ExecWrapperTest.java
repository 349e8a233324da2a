package dev.anneal.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.StageRunner;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.data.TokenShards;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.exec.ExecRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference engine as a stage attempt under {@code anneal-runner exec}: its metrics become
 * events, its checkpoints land in the store with manifests the catalog reads, the wrapper's
 * instability detector stops it on a spike, a resume starts from a stored checkpoint, and an engine
 * that breaks the contract ends with a clear reason and nothing half-registered.
 */
class ExecWrapperTest {

  @TempDir static Path shared;
  @TempDir Path dir;

  static Path tokens;

  private int runs;

  @BeforeAll
  static void tokenSet() throws Exception {
    // a learnable corpus: an order-1 chain whose next id is nearly determined by the current one
    SplittableRandom g = new SplittableRandom(7);
    int[] table = new int[300];
    for (int i = 0; i < table.length; i++) table[i] = 1 + g.nextInt(299);
    List<int[]> docs = new ArrayList<>();
    for (int d = 0; d < 200; d++) {
      int[] doc = new int[60];
      int t = 1 + g.nextInt(299);
      for (int i = 0; i < doc.length; i++) {
        doc[i] = t;
        t = g.nextDouble() < 0.9 ? table[t] : 1 + g.nextInt(299);
      }
      docs.add(doc);
    }
    tokens = shared.resolve("tokens");
    TokenShards.write(tokens, docs, 300, 0, 1 << 20, Map.of());
  }

  record Outcome(int code, List<RunnerEvent> events, BlobStore store) {
    <T extends RunnerEvent> List<T> of(Class<T> type) {
      return events.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }

  private RunSpec spec(long steps, FaultInjection inject, CheckpointRef resume, int attempt) {
    return MicroRuns.pretrain(
            dir, steps, 11L, 20, List.of(new DatasetRef("chain", "tokens", null, 1.0, null)))
        .attempt(attempt)
        .inject(inject)
        .resumeFrom(resume)
        .build();
  }

  private Outcome exec(RunSpec spec, List<String> command, int ranks, long stallMillis)
      throws Exception {
    Python.assumeTorch();
    EventLog events = new EventLog("t", "p", StageKind.PRETRAIN, spec.attempt(), line -> {});
    BlobStore store = StageRunner.store(spec.store());
    int code =
        ExecRun.run(
            spec,
            store,
            events,
            new ExecRun.Options(
                command,
                ranks,
                ExecRun.Rendezvous.single(),
                dir.resolve("work-" + runs++),
                tokens,
                Map.of(),
                20,
                5_000,
                stallMillis,
                false));
    return new Outcome(code, events.events(), store);
  }

  private static List<String> referenceEngine() {
    return List.of(
        "env",
        "PYTHONPATH=" + Python.MODULE,
        "ANNEAL_THREADS=1",
        "OMP_NUM_THREADS=1",
        Python.EXECUTABLE.toString(),
        "-m",
        "anneal_torch.train");
  }

  @Test
  void twoRanksTrainAsAStageAttempt() throws Exception {
    Outcome o = exec(spec(40, null, null, 1), referenceEngine(), 2, 120_000);
    assertThat(o.code()).as(o.events().toString()).isZero();
    List<RunnerEvent.Metrics> metrics = o.of(RunnerEvent.Metrics.class);
    List<Long> steps =
        metrics.stream().flatMap(m -> m.points().stream()).map(p -> p.step()).distinct().toList();
    assertThat(steps).hasSize(40).startsWith(0L).endsWith(39L);
    List<RunnerEvent.CheckpointCommitted> ckpts = o.of(RunnerEvent.CheckpointCommitted.class);
    assertThat(ckpts).extracting(RunnerEvent.CheckpointCommitted::step).containsExactly(20L, 40L);
    for (var c : ckpts) {
      // the store's format, sha256s checked on the way in
      CheckpointReader.Loaded l = CheckpointReader.load(o.store(), c.manifestKey());
      assertThat(l.manifest().step()).isEqualTo(c.step());
      assertThat(l.state().step()).isEqualTo(c.step());
      assertThat(l.manifest().health().loss()).isNotNull();
    }
    RunnerEvent.Finished f = o.of(RunnerEvent.Finished.class).get(0);
    assertThat(f.finalStep()).isEqualTo(40);
    assertThat(f.summary().get("final_loss")).isLessThan(4.5);
  }

  @Test
  void aSpikeIsDetectedByTheWrapperAndStopsTheEngine() throws Exception {
    Outcome o =
        exec(
            spec(60, new FaultInjection(25L, 10, 300.0, null, null, 1), null, 1),
            referenceEngine(),
            1,
            120_000);
    assertThat(o.code()).as(o.events().toString()).isEqualTo(5);
    RunnerEvent.Instability i = o.of(RunnerEvent.Instability.class).get(0);
    assertThat(i.step()).isBetween(25L, 34L);
    assertThat(i.firstBatch()).isGreaterThanOrEqualTo(25);
    assertThat(i.message()).contains("newest checkpoint").contains("step-00000020");
  }

  @Test
  void aResumedAttemptStartsFromTheStoredCheckpoint() throws Exception {
    Outcome first = exec(spec(40, null, null, 1), referenceEngine(), 1, 120_000);
    assertThat(first.code()).isZero();
    String key = first.of(RunnerEvent.CheckpointCommitted.class).get(0).manifestKey();
    Outcome second =
        exec(spec(40, null, new CheckpointRef(key, 20L), 2), referenceEngine(), 1, 120_000);
    assertThat(second.code()).as(second.events().toString()).isZero();
    long firstStep = second.of(RunnerEvent.Metrics.class).get(0).points().get(0).step();
    assertThat(firstStep).isEqualTo(20);
  }

  @Test
  void enginesThatBreakTheContractEndWithAReason() throws Exception {
    Outcome garbage =
        exec(
            spec(10, null, null, 1),
            List.of("sh", "-c", "echo not-json >> $ANNEAL_METRICS_FILE; sleep 30"),
            1,
            60_000);
    assertThat(garbage.code()).isEqualTo(1);
    assertThat(reason(garbage)).contains("metrics.jsonl line 1 is not a JSON object: not-json");

    Outcome noCheckpoint = exec(spec(10, null, null, 1), List.of("sh", "-c", "exit 0"), 1, 60_000);
    assertThat(noCheckpoint.code()).isEqualTo(1);
    assertThat(reason(noCheckpoint)).contains("exited 0 without its final checkpoint");

    Outcome empty =
        exec(
            spec(10, null, null, 1),
            List.of(
                "sh",
                "-c",
                "mkdir -p $ANNEAL_CHECKPOINT_DIR/step-00000005"
                    + " && touch $ANNEAL_CHECKPOINT_DIR/step-00000005/COMMITTED; sleep 30"),
            1,
            60_000);
    assertThat(empty.code()).isEqualTo(1);
    assertThat(reason(empty))
        .contains("step-00000005 is marked COMMITTED but has no model.safetensors");
    assertThat(empty.of(RunnerEvent.CheckpointCommitted.class)).isEmpty();

    Outcome hung = exec(spec(10, null, null, 1), List.of("sleep", "30"), 1, 1_000);
    assertThat(hung.code()).isEqualTo(1);
    assertThat(reason(hung)).contains("no metrics line for 1 s");

    Outcome crashed =
        exec(
            spec(40, new FaultInjection(null, null, null, null, 7L, 1), null, 1),
            referenceEngine(),
            1,
            60_000);
    assertThat(crashed.code()).isEqualTo(1);
    assertThat(reason(crashed))
        .contains("rank 0 exited with 1")
        .contains("FAULT INJECTION: crashing at step 7");
  }

  @Test
  void anEngineThatCheckpointsEveryStepIsNotTakenForHung() throws Exception {
    // a slow engine that commits a checkpoint with every step: each import drops the lines behind
    // it, so progress must be counted in steps, not in lines kept
    Path template = Files.createDirectories(dir.resolve("template"));
    byte[] tensor =
        dev.anneal.runner.ckpt.SafeTensors.write(
            Map.of(
                "w",
                new dev.anneal.runner.ckpt.SafeTensors.HostTensor(
                    new long[] {2}, new float[] {1, 2})),
            Map.of());
    Files.write(template.resolve("model.safetensors"), tensor);
    Files.write(template.resolve("optimizer.safetensors"), tensor);
    // the step's line and its checkpoint's marker land together, as one poll sees them
    String script =
        "for i in 1 2 3 4 5 6; do"
            + " d=$ANNEAL_CHECKPOINT_DIR/$(printf step-%08d $i); mkdir -p $d;"
            + " cp "
            + template
            + "/*.safetensors $d/;"
            + " echo \"{\\\"step\\\": $i}\" > $d/trainer-state.json;"
            + " echo \"{\\\"step\\\": $((i-1)), \\\"data_batch\\\": $((i-1)), \\\"loss\\\": 1.0,"
            + " \\\"grad_norm\\\": 0.5, \\\"tokens\\\": 256}\" >> $ANNEAL_METRICS_FILE;"
            + " : > $d/COMMITTED; sleep 0.4; done";
    Outcome o =
        exec(
            dev.anneal.protocol.RunSpecBuilder.builder(spec(6, null, null, 1))
                .checkpoint(new CheckpointPolicy(1, 10, null))
                .build(),
            List.of("sh", "-c", script),
            1,
            1_000);
    assertThat(o.code()).as(o.events().toString()).isZero();
    assertThat(o.of(RunnerEvent.CheckpointCommitted.class)).hasSize(6);
  }

  @Test
  void noRankOutlivesAWrapperKilledWithSigkill() throws Exception {
    Path jar = Python.runnerJar();
    String mark = "rank-mark-" + UUID.randomUUID();
    Path specFile = dir.resolve("spec.json");
    Files.writeString(specFile, ProtocolJson.write(spec(100_000, null, null, 1)));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "java",
                "-jar",
                jar.toString(),
                "exec",
                "--spec",
                specFile.toString(),
                "--tokens",
                tokens.toString(),
                "--work",
                dir.resolve("w").toString(),
                "--ranks",
                "2",
                "--"));
    cmd.addAll(referenceEngine());
    cmd.add(mark);
    Process wrapper =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out").toFile())
            .start();
    Path metrics = dir.resolve("w/metrics.jsonl");
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline && !(Files.exists(metrics) && Files.size(metrics) > 0)) {
      Thread.sleep(50);
    }
    assertThat(ranksRunning(mark)).as(Files.readString(dir.resolve("out"))).isEqualTo(2);
    wrapper.destroyForcibly().waitFor();
    deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline && ranksRunning(mark) > 0) Thread.sleep(50);
    assertThat(ranksRunning(mark)).as("ranks left after the wrapper died").isZero();
  }

  private static int ranksRunning(String mark) throws Exception {
    // the ranks' command lines hold the mark; so does the wrapper's, which is not a rank
    Process p = new ProcessBuilder("pgrep", "-af", mark).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return (int)
        out.lines().filter(l -> l.contains("anneal_torch.train") && !l.contains("-jar")).count();
  }

  private static String reason(Outcome o) {
    return o.of(RunnerEvent.Failed.class).get(0).reason();
  }
}
