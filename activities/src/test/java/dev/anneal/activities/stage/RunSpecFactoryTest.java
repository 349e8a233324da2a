package dev.anneal.activities.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.activities.metadata.MetadataReads;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.stage.AttemptPlan;
import dev.anneal.workflows.api.stage.StageRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The RunSpec of an attempt: its device follows the stage's GPUs. */
class RunSpecFactoryTest {

  @ParameterizedTest
  @CsvSource({"0, cpu", "1, cuda"})
  void theDeviceFollowsTheStagesGpus(int gpus, String device) throws Exception {
    PipelineSpec p =
        PipelineSpecs.parse(
            Files.readString(Path.of("../examples/tiny-chat.yaml"))
                .replace("resources: {gpus: 0,", "resources: {gpus: " + gpus + ","));
    int rlhf = p.stages().size() - 1;
    AttemptPlan plan =
        new AttemptPlan(
            new StageRef(
                "p",
                "s",
                "t",
                p.metadata().name(),
                rlhf,
                new CheckpointRef("t/p/sft/final/manifest.json", null),
                new CheckpointRef("t/p/reward/final/manifest.json", null)),
            1,
            "first",
            null,
            List.of(),
            1.0,
            null);
    RunSpec run =
        RunSpecFactory.build(p, plan, new ObjectStoreTarget("file:/tmp/x", "b", null), null);
    assertThat(run.device()).isEqualTo(device);
    // the other stages ask for no GPU
    assertThat(
            RunSpecFactory.build(
                    p, firstStage(), new ObjectStoreTarget("file:/tmp/x", "b", null), null)
                .device())
        .isEqualTo("cpu");
  }

  @Test
  void aRegisteredDatasetIsItsStoredObjectWithTheSha256ItsUploadRecorded() throws Exception {
    PipelineSpec p =
        PipelineSpecs.parse(
            Files.readString(Path.of("../examples/tiny-chat.yaml"))
                .replace("synthetic:arithmetic?docs=3000", "dataset:sums@v2")
                .replace("synthetic:prose?docs=3000", "dataset:gone"));
    String sha = "a".repeat(64);
    RunSpecFactory.DatasetObjects registry =
        (team, name, version) ->
            name.equals("sums") && version == 2
                ? Optional.of(
                    new MetadataReads.StoredDataset(
                        "teams/" + team + "/datasets/sums/v2/data.parquet", sha))
                : Optional.empty();
    RunSpec run =
        RunSpecFactory.build(
            p, firstStage(), new ObjectStoreTarget("file:/tmp/x", "b", null), null, registry);
    DatasetRef sums =
        run.datasets().stream().filter(d -> d.key().contains("sums")).findFirst().orElseThrow();
    assertThat(sums.key()).isEqualTo("teams/t/datasets/sums/v2/data.parquet");
    assertThat(sums.sha256()).isEqualTo(sha);
    // one the registry does not know keeps the JSONL key, for the runner to say it is missing
    DatasetRef gone =
        run.datasets().stream().filter(d -> d.key().contains("gone")).findFirst().orElseThrow();
    assertThat(gone.key()).isEqualTo("teams/t/datasets/gone/v1/data.jsonl");
    assertThat(gone.sha256()).isNull();
  }

  /** The first attempt of the pipeline's first stage. */
  private static AttemptPlan firstStage() {
    return new AttemptPlan(
        new StageRef("p", "s", "t", "n", 0, null, null), 1, "first", null, List.of(), 1.0, null);
  }
}
