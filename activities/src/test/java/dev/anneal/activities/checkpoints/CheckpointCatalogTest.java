package dev.anneal.activities.checkpoints;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.activities.store.ObjectStore;
import dev.anneal.activities.store.S3Settings;
import dev.anneal.activities.testing.LocalS3;
import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointCatalogTest {

  @TempDir static Path dir;
  private static LocalS3 s3;
  private static ObjectStore store;

  @BeforeAll
  static void start() throws Exception {
    s3 = LocalS3.start(dir);
    store =
        new ObjectStore(
            new S3Settings(s3.endpoint(), LocalS3.ACCESS_KEY, LocalS3.SECRET_KEY, "ckpt", null));
    store.ensureBucket();
  }

  @AfterAll
  static void stop() throws Exception {
    s3.close();
  }

  private static void commit(long step, int attempt, boolean anomalous, boolean dropFile) {
    byte[] weights = ("weights@" + step).getBytes(StandardCharsets.UTF_8);
    String prefix = ObjectKeys.checkpointPrefix("t", "p", StageKind.PRETRAIN, step, attempt);
    if (!dropFile) store.put(prefix + "model.safetensors", weights, "application/octet-stream");
    CheckpointManifest m =
        new CheckpointManifest(
            null,
            "t",
            "p",
            StageKind.PRETRAIN,
            attempt,
            step,
            step * 100,
            step,
            Instant.EPOCH,
            List.of(
                new CheckpointManifest.FileEntry(
                    "model.safetensors", ObjectStore.sha256(weights), weights.length)),
            new CheckpointManifest.Health(2.0, 2.0, 0.5, null, anomalous, Map.of()));
    store.put(
        prefix + ObjectKeys.MANIFEST,
        ProtocolJson.write(m).getBytes(StandardCharsets.UTF_8),
        "application/json");
  }

  @Test
  void listsVerifiedCheckpointsWithHealthAndSkipsBrokenOnes() {
    commit(100, 1, false, false);
    commit(200, 1, true, false);
    commit(300, 1, false, true); // its weights never arrived
    commit(300, 2, false, false); // a later attempt reached step 300 again
    store.put(
        ObjectKeys.checkpointPrefix("t", "p", StageKind.PRETRAIN, 400, 2) + ObjectKeys.MANIFEST,
        "{not json".getBytes(StandardCharsets.UTF_8),
        "application/json");
    List<String> problems = new ArrayList<>();
    List<CheckpointCandidate> c =
        new CheckpointCatalog(store).candidates("t", "p", StageKind.PRETRAIN, problems::add);
    assertThat(c).extracting(CheckpointCandidate::step).containsExactly(100L, 200L, 300L);
    assertThat(c).extracting(CheckpointCandidate::healthy).containsExactly(true, false, true);
    assertThat(c.get(2).manifestKey()).contains("step-00000300-a2");
    assertThat(problems)
        .hasSize(2)
        .anyMatch(p -> p.contains("step-00000300-a1") && p.contains("model.safetensors"))
        .anyMatch(p -> p.contains("step-00000400-a2") && p.contains("unreadable"));
  }
}
