package dev.anneal.torch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.StageRunner;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.exec.ExecRun;
import dev.anneal.runner.exec.ReferenceEngine;
import dev.anneal.runner.hf.HfFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference engine as the runner jar carries it ({@code exec --engine torch}), on a stage's own
 * data: the wrapper encodes the RunSpec's dataset with the run's tokenizer into a token set, the
 * engine trains on it, every checkpoint carries the tokenizer, the stage ends with a Hugging Face
 * export the built-in engine loads, and SIGTERM ends the attempt preempted behind a checkpoint.
 */
class CarriedEngineTest {

  @TempDir Path dir;

  private RunSpec spec(long steps, List<DatasetRef> data) {
    return MicroRuns.pretrain(dir, steps, 5L, 20, data).build();
  }

  private static List<DatasetRef> prose() {
    return List.of(new DatasetRef("prose", "synthetic:prose?docs=400", null, 1.0, null));
  }

  private int exec(RunSpec spec, EventLog events, Path work) throws Exception {
    Python.assumeTorch();
    ReferenceEngine.Program engine = ReferenceEngine.install(work.resolve("engine"));
    return ExecRun.run(
        spec,
        StageRunner.store(spec.store()),
        events,
        new ExecRun.Options(
            engine.command(),
            2,
            ExecRun.Rendezvous.single(),
            work,
            null,
            engine.env(),
            20,
            5_000,
            120_000,
            false));
  }

  @Test
  void theJarCarriesEveryFileOfTheEngine() throws Exception {
    try (Stream<Path> files = Files.list(Python.MODULE.resolve("anneal_torch"))) {
      List<String> sources =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".py"))
              .sorted()
              .toList();
      assertThat(ReferenceEngine.FILES).containsExactlyElementsOf(sources);
    }
  }

  @Test
  void trainsOnTheStagesOwnDataAndEndsWithAHuggingFaceExport() throws Exception {
    RunSpec spec = spec(40, prose());
    EventLog events = new EventLog("t", "p", StageKind.PRETRAIN, 1, line -> {});
    Path work = dir.resolve("work");
    int code = exec(spec, events, work);
    assertThat(code).as(events.events().toString()).isZero();

    // the token set the wrapper wrote, named by its dataset and tokenizer
    JsonNode manifest = new ObjectMapper().readTree(work.resolve("tokens/manifest.json").toFile());
    assertThat(manifest.path("dataset").asText()).isEqualTo("prose");
    assertThat(manifest.path("tokenizerSha256").asText()).hasSize(64);

    List<Double> losses = losses(events);
    assertThat(losses).hasSize(40);
    double first = losses.subList(0, 5).stream().mapToDouble(d -> d).average().orElseThrow();
    double last = losses.subList(35, 40).stream().mapToDouble(d -> d).average().orElseThrow();
    assertThat(last).as("loss falls on the prose corpus: %s", losses).isLessThan(first * 0.8);

    BlobStore store = StageRunner.store(spec.store());
    RunnerEvent.Finished f =
        events.events().stream()
            .filter(RunnerEvent.Finished.class::isInstance)
            .map(RunnerEvent.Finished.class::cast)
            .findFirst()
            .orElseThrow();
    // throughput as the engine timed its steps, for the console and the stage's figures
    assertThat(f.summary().get("tokens_per_s")).isPositive();
    assertThat(f.summary()).containsEntry("ranks", 2.0).containsEntry("steps", 40.0);
    CheckpointReader.Loaded last40 = CheckpointReader.load(store, f.finalManifestKey());
    assertThat(last40.files()).containsKey("tokenizer.json");
    assertThat(last40.state().tokensSeen()).isEqualTo(40L * 8 * 32);

    String hf =
        f.finalManifestKey().substring(0, f.finalManifestKey().lastIndexOf('/') + 1) + "hf/";
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String name :
        List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
      files.put(name, store.get(hf + name).orElseThrow(() -> new AssertionError(hf + name)));
    }
    HfFormat.Model model = HfFormat.load(files, hf);
    assertThat(model.shape().vocabSize()).isEqualTo(300);
    assertThat(model.tokenizer().toHuggingFaceJson())
        .isEqualTo(new String(last40.file("tokenizer.json")));
  }

  @Test
  void aResumedAttemptReusesTheTokenSetTheFirstOneKept() throws Exception {
    EventLog first = new EventLog("t", "p", StageKind.PRETRAIN, 1, line -> {});
    assertThat(exec(spec(40, prose()), first, dir.resolve("a1"))).isZero();
    assertThat(logs(first))
        .anyMatch(l -> l.matches("exec: token set: encoded \\d+ tokens, kept as .*"));
    String ckpt =
        first.events().stream()
            .filter(RunnerEvent.CheckpointCommitted.class::isInstance)
            .map(e -> ((RunnerEvent.CheckpointCommitted) e).manifestKey())
            .findFirst()
            .orElseThrow();
    // the second attempt resumes from step 20 with the checkpoint's tokenizer: the set is known
    RunSpec resumed =
        dev.anneal.protocol.RunSpecBuilder.builder(spec(40, prose()))
            .attempt(2)
            .resumeFrom(new dev.anneal.protocol.CheckpointRef(ckpt, 20L))
            .build();
    EventLog second = new EventLog("t", "p", StageKind.PRETRAIN, 2, line -> {});
    assertThat(exec(resumed, second, dir.resolve("a2"))).as(second.events().toString()).isZero();
    assertThat(logs(second)).anyMatch(l -> l.startsWith("exec: token set: reused "));
    assertThat(Files.readString(dir.resolve("a2/tokens/manifest.json")))
        .isEqualTo(Files.readString(dir.resolve("a1/tokens/manifest.json")));
    // a broken shard in the store is refused by name, not trained on
    Path store = dir.resolve("store/teams/t/tokens");
    try (Stream<Path> sets = Files.walk(store)) {
      Path shard = sets.filter(p -> p.toString().endsWith(".bin")).findFirst().orElseThrow();
      byte[] b = Files.readAllBytes(shard);
      b[0] ^= 1;
      Files.write(shard, b);
    }
    EventLog third = new EventLog("t", "p", StageKind.PRETRAIN, 3, line -> {});
    RunSpec again = dev.anneal.protocol.RunSpecBuilder.builder(resumed).attempt(3).build();
    assertThat(exec(again, third, dir.resolve("a3"))).isEqualTo(3);
    assertThat(third.events())
        .anyMatch(
            e ->
                e instanceof RunnerEvent.Failed f
                    && f.reason().contains("sha256 differs from the manifest"));
  }

  private static List<Double> losses(EventLog events) {
    List<Double> out = new ArrayList<>();
    for (RunnerEvent e : events.events()) {
      if (e instanceof RunnerEvent.Metrics m) {
        m.points().stream().filter(p -> p.name().equals("loss")).forEach(p -> out.add(p.value()));
      }
    }
    return out;
  }

  private static String finalManifest(EventLog events) {
    return events.events().stream()
        .filter(RunnerEvent.Finished.class::isInstance)
        .map(e -> ((RunnerEvent.Finished) e).finalManifestKey())
        .findFirst()
        .orElseThrow();
  }

  private static List<String> logs(EventLog events) {
    return events.events().stream()
        .filter(RunnerEvent.Log.class::isInstance)
        .map(e -> ((RunnerEvent.Log) e).message())
        .toList();
  }

  @Test
  void sftContinuesAPreTrainedCheckpointLearningTheAssistantsTurns() throws Exception {
    EventLog pre = new EventLog("t", "p", StageKind.PRETRAIN, 1, line -> {});
    assertThat(exec(spec(40, prose()), pre, dir.resolve("pre"))).isZero();
    String from = finalManifest(pre);
    RunSpec sft =
        dev.anneal.protocol.RunSpecBuilder.builder(spec(40, prose()))
            .stage(StageKind.SFT)
            .datasets(List.of(new DatasetRef("chat", "synthetic:chat?docs=300", null, 1.0, "chat")))
            .initFrom(new dev.anneal.protocol.CheckpointRef(from, 40L))
            .build();
    EventLog events = new EventLog("t", "p", StageKind.SFT, 1, line -> {});
    assertThat(exec(sft, events, dir.resolve("sft"))).as(events.events().toString()).isZero();
    JsonNode manifest =
        new ObjectMapper().readTree(dir.resolve("sft/tokens/manifest.json").toFile());
    assertThat(manifest.path("examples").path("count").asInt()).isGreaterThan(200);
    List<Double> losses = losses(events);
    assertThat(losses).hasSize(40);
    double first = losses.subList(0, 5).stream().mapToDouble(d -> d).average().orElseThrow();
    double last = losses.subList(35, 40).stream().mapToDouble(d -> d).average().orElseThrow();
    assertThat(last).as("the assistant's turns are learned: %s", losses).isLessThan(first * 0.8);
    // the same tokenizer as the pre-training, and an hf/ export as the built-in engine's SFT writes
    assertThat(logs(events)).anyMatch(l -> l.contains("of ") && l.contains(" dialogues"));
    String fin = finalManifest(events);
    BlobStore store = StageRunner.store(sft.store());
    assertThat(CheckpointReader.load(store, fin).file("tokenizer.json"))
        .isEqualTo(CheckpointReader.load(store, from).file("tokenizer.json"));
    assertThat(store.get(fin.substring(0, fin.lastIndexOf('/') + 1) + "hf/config.json"))
        .isPresent();
  }

  @Test
  void aMixtureIsRefusedBeforeAnyRankStarts() throws Exception {
    List<DatasetRef> two = new ArrayList<>(prose());
    two.add(new DatasetRef("code", "synthetic:code?docs=50", null, 1.0, null));
    EventLog events = new EventLog("t", "p", StageKind.PRETRAIN, 1, line -> {});
    Path work = dir.resolve("work");
    assertThat(exec(spec(10, two), events, work)).isEqualTo(2);
    RunnerEvent.Failed failed =
        events.events().stream()
            .filter(RunnerEvent.Failed.class::isInstance)
            .map(RunnerEvent.Failed.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(failed.reason()).contains("trains on one token set").contains("got 2 dataset(s)");
    assertThat(work.resolve("logs")).doesNotExist();
  }

  @Test
  void sigtermEndsTheAttemptPreemptedBehindACheckpoint() throws Exception {
    Path jar = Python.runnerJar();
    Path specFile = dir.resolve("spec.json");
    Files.writeString(specFile, ProtocolJson.write(spec(100_000, prose())));
    Process wrapper =
        Python.exec(jar, specFile, dir.resolve("w").toString(), "--ranks", "2", "--engine", "torch")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out").toFile())
            .start();
    Path metrics = dir.resolve("w/metrics.jsonl");
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline
        && wrapper.isAlive()
        && !(Files.exists(metrics) && Files.readAllLines(metrics).size() >= 3)) {
      Thread.sleep(50);
    }
    assertThat(wrapper.isAlive()).as(Files.readString(dir.resolve("out"))).isTrue();
    wrapper.destroy(); // SIGTERM, as a pod's preemption sends
    assertThat(wrapper.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    String out = Files.readString(dir.resolve("out"));
    assertThat(wrapper.exitValue()).as(out).isEqualTo(6);
    assertThat(out).contains("checkpoint_committed").contains("asked to stop");
  }
}
