package dev.anneal.platform.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.anneal.activities.metadata.EventRow;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.metadata.StageSummary;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.platform.EmbeddedStackTest;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The platform hosts the pipeline: its Temporal worker runs the workflows, its activities launch
 * the real runner as a child JVM, and the runner's events come back over HTTP into PostgreSQL — all
 * on the embedded stack.
 */
@EmbeddedStackTest
class HostedPipelineIT {

  @Autowired WorkflowClient client;
  @Autowired MetadataStore meta;
  @Autowired ObjectStore store;

  @org.springframework.beans.factory.annotation.Value("${anneal.embedded.data-dir}")
  String dataDir;

  @Test
  void aPretrainingPipelineRunsToTheEndOnTheEmbeddedStack() throws Exception {
    assumeRunnerJar();
    PipelineSpec spec =
        PipelineSpecs.parse(
            """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: hosted}
        model: {preset: micro}
        tokenizer: {vocabSize: 300}
        datasets: [{name: prose, source: "synthetic:prose?docs=200"}]
        stages:
          - kind: pretrain
            data: [{dataset: prose}]
            hyperparameters: {steps: 40, batchSize: 8, seqLen: 32, lr: 0.002}
            checkpoint: {everySteps: 20}
        """);
    Started started = start(spec);
    UUID pipeline = started.pipeline();
    UUID stage = started.stage(0);
    PipelineResult r = started.run().get(5, TimeUnit.MINUTES);
    assertThat(r.status()).as(String.valueOf(r)).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(r.stages().get(0).finalManifestKey())
        .isEqualTo(
            "teams/hosted/pipelines/"
                + ObjectKeys.pipelineRun("hosted", pipeline.toString())
                + "/pretrain/checkpoints/step-00000040-a1/manifest.json");
    assertThat(meta.reads().count("metrics", stage)).isGreaterThanOrEqualTo(40);
    assertThat(meta.reads().currentStep(stage)).isEqualTo(40);
    assertThat(meta.reads().events(pipeline, 0, 10_000)).anyMatch(e -> e.type().equals("finished"));
    // the pipeline's row follows the workflow: the API lists pipelines from PostgreSQL
    assertThat(meta.reads().pipelineStatus(pipeline))
        .hasValueSatisfying(row -> assertThat(row.status()).isEqualTo(PipelineStatus.SUCCEEDED));
    assertThat(meta.reads().stageSummaries(pipeline))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.status()).isEqualTo(StageStatus.SUCCEEDED);
              assertThat(s.eval()).contains("\"final_loss\"");
              assertThat(s.wallSeconds()).isPositive();
            });
    assertThat(meta.reads().stageLineage(stage).finalCheckpoint())
        .isEqualTo(r.stages().get(0).finalManifestKey());
  }

  /**
   * A pipeline whose pre-training runs on the torch engine (two DDP ranks of Debian's PyTorch under
   * {@code anneal-runner exec}): an injected loss spike is caught by the wrapper's detector and
   * rolled back by the workflow, a rank SIGKILLed in the next attempt ends it as a crash that the
   * workflow restarts from the newest checkpoint, and SFT, the reward model and RLHF on the
   * built-in engine continue from the torch checkpoint with its tokenizer.
   */
  @Test
  void aTorchPretrainRollsBackSurvivesAKilledRankAndHandsOnToABuiltInSft() throws Exception {
    assumeRunnerJarAndTorch();
    String yaml =
        Files.readString(Path.of("../examples/ddp-pretrain.yaml"))
            .replace("name: ddp-chat", "name: ddp-hosted")
            .replace("steps: 300, batchSize: 16", "steps: 400, batchSize: 16");
    PipelineSpec spec = PipelineSpecs.parse(yaml);
    Started started = start(spec);
    UUID pipeline = started.pipeline();
    UUID pretrain = started.stage(0);
    CompletableFuture<PipelineResult> run = started.run();

    // the second attempt (after the rollback), 20 steps in: SIGKILL one rank. Its metrics file,
    // on this machine, says where it is sooner than the events that travel to PostgreSQL.
    long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
    while (System.nanoTime() < deadline && secondAttemptSteps(pipeline) < 20) {
      assertThat(run).as("the pipeline ended before a rank could be killed").isNotDone();
      Thread.sleep(5);
    }
    List<ProcessHandle> ranks = ranks();
    assertThat(ranks).as("the second attempt's ranks").hasSize(2);
    ranks.get(1).destroyForcibly();

    PipelineResult r = run.get(6, TimeUnit.MINUTES);
    assertThat(r.status()).as(String.valueOf(r)).isEqualTo(PipelineStatus.SUCCEEDED);
    StageSummary pre = meta.reads().stageSummaries(pipeline).get(0);
    assertThat(pre.rollbacks()).isEqualTo(1);
    assertThat(pre.restarts()).isEqualTo(1);
    List<EventRow> events = meta.reads().events(pipeline, 0, 100_000);
    assertThat(events).anyMatch(e -> e.type().equals("instability"));
    // the first attempt encoded the corpus and kept the token set; the later ones reused it
    assertThat(events)
        .anyMatch(e -> e.message() != null && e.message().contains("token set: encoded"));
    assertThat(
            events.stream()
                .filter(e -> e.message() != null)
                .filter(e -> e.message().contains("token set: reused"))
                .count())
        .isEqualTo(2);
    // the cause, not its echo (rank 0's gloo error when its peer vanished)
    assertThat(events)
        .anyMatch(
            e ->
                e.message() != null
                    && e.message().contains("rank 1 was killed by signal 9 (SIGKILL"));

    String torchFinal = r.stages().get(0).finalManifestKey();
    assertThat(torchFinal).contains("/pretrain/checkpoints/step-00000400-a3/");
    String dir = torchFinal.substring(0, torchFinal.lastIndexOf('/') + 1);
    assertThat(new String(store.get(dir + "hf/config.json"))).contains("LlamaForCausalLM");
    // SFT ran on the built-in engine from the torch checkpoint, with its tokenizer
    UUID sft = started.stage(1);
    assertThat(meta.reads().stageLineage(sft).initFrom()).isEqualTo(torchFinal);
    String sftFinal = r.stages().get(1).finalManifestKey();
    String sftDir = sftFinal.substring(0, sftFinal.lastIndexOf('/') + 1);
    assertThat(new String(store.get(sftDir + "tokenizer.json")))
        .isEqualTo(new String(store.get(dir + "tokenizer.json")));
    // and the reward model and RLHF after it, on the built-in engine
    assertThat(meta.reads().stageSummaries(pipeline))
        .extracting(StageSummary::kind, StageSummary::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("pretrain", StageStatus.SUCCEEDED),
            org.assertj.core.groups.Tuple.tuple("sft", StageStatus.SUCCEEDED),
            org.assertj.core.groups.Tuple.tuple("reward", StageStatus.SUCCEEDED),
            org.assertj.core.groups.Tuple.tuple("rlhf", StageStatus.SUCCEEDED));
    assertThat(meta.reads().stageLineage(started.stage(3)).initFrom()).isEqualTo(sftFinal);
    assertThat(ranks()).as("no rank is left").isEmpty();
  }

  /**
   * A team's own program as the engine ({@code engine: {kind: command}}): {@code
   * examples/engines/bigram_numpy.py}, written only against the contract (numpy, no Anneal code, no
   * PyTorch). Its injected spike is rolled back like any other; the attempt after the rollback
   * reports the restored checkpoint's step first and loaded exactly that checkpoint's weights.
   */
  @Test
  void aTeamsOwnProgramTrainsRollsBackAndResumesFromTheRestoredCheckpoint() throws Exception {
    assumeRunnerJarAndTorch();
    Path program = Path.of("../examples/engines/bigram_numpy.py").toAbsolutePath().normalize();
    PipelineSpec spec =
        PipelineSpecs.parse(
            """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: own-engine}
        model: {preset: micro}
        tokenizer: {vocabSize: 300}
        datasets: [{name: prose, source: "synthetic:prose?docs=300"}]
        stages:
          - kind: pretrain
            engine: {kind: command, command: [/usr/bin/python3, "%s"]}
            data: [{dataset: prose}]
            hyperparameters: {steps: 120, batchSize: 8, seqLen: 32, lr: 20}
            checkpoint: {everySteps: 20, keepLast: 10}
            stability: {rollback: {steps: 20}, skipBatches: 20, maxRollbacks: 2}
            inject: {spikeAtStep: 70, spikeSteps: 5, spikeLrMultiplier: 100}
        """
                .formatted(program));
    Started started = start(spec);
    PipelineResult r = started.run().get(5, TimeUnit.MINUTES);
    assertThat(r.status()).as(String.valueOf(r)).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(meta.reads().stageSummaries(started.pipeline()).get(0).rollbacks()).isEqualTo(1);
    assertThat(r.stages().get(0).finalManifestKey())
        .contains("/pretrain/checkpoints/step-00000120-a2/");

    Path job = jobDir(started.pipeline(), 2);
    var resume =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(job.resolve("exec/run-spec.json").toFile())
            .path("resumeFrom");
    long restored = resume.path("step").asLong();
    assertThat(restored).as("a healthy checkpoint before the spike at step 70").isLessThan(70);
    String firstLine = Files.readAllLines(job.resolve("exec/metrics.jsonl")).get(0);
    assertThat(firstLine).startsWith("{\"step\": " + restored + ",");
    var manifest =
        ProtocolJson.read(
            new String(store.get(resume.path("manifestKey").asText())),
            dev.anneal.protocol.CheckpointManifest.class);
    String sha =
        manifest.files().stream()
            .filter(f -> f.path().equals("model.safetensors"))
            .findFirst()
            .orElseThrow()
            .sha256();
    assertThat(Files.readString(job.resolve("exec/logs/rank-0.log")))
        .contains("toy-engine: loaded " + sha);
    // not a LLaMA: its checkpoints are its own, and no hf/ export is made of them
    assertThat(meta.reads().events(started.pipeline(), 0, 10_000))
        .anyMatch(e -> e.message() != null && e.message().contains("so no Hugging Face export"));
  }

  private static void assumeRunnerJar() {
    assumeTrue(
        Files.isRegularFile(Path.of("../gpu-runner/engine/target/anneal-runner.jar")),
        "run the whole build");
  }

  private static void assumeRunnerJarAndTorch() throws Exception {
    assumeRunnerJar();
    assumeTrue(
        new ProcessBuilder("/usr/bin/python3", "-c", "import torch").start().waitFor() == 0,
        "no PyTorch for /usr/bin/python3 (apt-get install python3-torch; .ci/run does)");
  }

  /** A pipeline's rows, as the API writes them, and its run on the platform's own worker. */
  private record Started(UUID pipeline, List<UUID> stages, CompletableFuture<PipelineResult> run) {
    UUID stage(int position) {
      return stages.get(position);
    }
  }

  private Started start(PipelineSpec spec) {
    String name = spec.metadata().name();
    UUID team = meta.pipelines().ensureTeam("hosted");
    UUID pipeline = meta.pipelines().create(team, name, ProtocolJson.write(spec), name + "-1");
    List<UUID> stages = new ArrayList<>();
    for (int i = 0; i < spec.stages().size(); i++) {
      var s = spec.stages().get(i);
      stages.add(meta.stages().create(pipeline, i, s.kind(), s.hyperparameters().steps()));
    }
    PipelineWorkflow wf =
        client.newWorkflowStub(
            PipelineWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CONTROL)
                .setWorkflowId(name + "-1")
                .build());
    List<String> ids = stages.stream().map(UUID::toString).toList();
    return new Started(
        pipeline,
        stages,
        WorkflowClient.execute(
            wf::run, new PipelineInput(pipeline.toString(), "hosted", spec, ids, 1)));
  }

  /** The local job folder of a pipeline's attempt (of its first stage with that attempt). */
  private Path jobDir(UUID pipeline, int attempt) throws java.io.IOException {
    try (var dirs = Files.list(Path.of(dataDir, "jobs"))) {
      return dirs.filter(p -> p.getFileName().toString().contains(pipeline + "-a" + attempt + "-"))
          .findFirst()
          .orElseThrow();
    }
  }

  /** How many steps the second attempt of this test's torch stage has reported (0: not begun). */
  private long secondAttemptSteps(UUID pipeline) throws java.io.IOException {
    Path jobs = Path.of(dataDir, "jobs");
    if (!Files.isDirectory(jobs)) return 0;
    try (var dirs = Files.list(jobs)) {
      for (Path job :
          dirs.filter(p -> p.getFileName().toString().contains(pipeline + "-a2-")).toList()) {
        Path metrics = job.resolve("exec/metrics.jsonl");
        if (Files.exists(metrics)) return Files.readAllLines(metrics).size();
      }
    }
    return 0;
  }

  /** The torch engine's rank processes this test's platform started. */
  private static List<ProcessHandle> ranks() {
    return ProcessHandle.allProcesses()
        .filter(
            p ->
                p.info().commandLine().map(c -> c.contains("anneal_torch.train")).orElse(false)
                    && cwd(p).contains("/it-data/"))
        .toList();
  }

  private static String cwd(ProcessHandle p) {
    try {
      return Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/cwd")).toString();
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
