package dev.anneal.runner.ckpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.StageKind;
import dev.anneal.s3.S3Retry;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoint commit, retention and verified load, and files streamed in and out, on a directory and
 * on a real S3 server.
 */
class CheckpointStoresTest {

  @TempDir Path dir;

  private static CheckpointSnapshot snapshot(long step) {
    Map<String, SafeTensors.HostTensor> model = new LinkedHashMap<>();
    model.put("w", new SafeTensors.HostTensor(new long[] {2, 2}, new float[] {step, 1, 2, 3}));
    TrainerState state =
        new TrainerState(1, step, step * 64, step, step, "adamw", 1, 0, 7, null, "shape");
    return new CheckpointSnapshot(
        step,
        model,
        Map.of(),
        state,
        "{}",
        new CheckpointManifest.Health(2.0, 2.1, 0.5, null, false, Map.of()));
  }

  private void commitsRetainsAndLoads(BlobStore store) {
    List<CheckpointWriter.Committed> seen = new ArrayList<>();
    try (CheckpointWriter w =
        new CheckpointWriter(
            store,
            "t",
            "p",
            StageKind.PRETRAIN,
            2,
            new CheckpointPolicy(10, 2, 30),
            false,
            seen::add)) {
      for (long step = 10; step <= 60; step += 10) {
        w.commit(snapshot(step));
      }
      assertThatThrownBy(() -> w.commit(snapshot(60))).hasMessageContaining("never overwritten");
    }
    assertThat(seen)
        .extracting(CheckpointWriter.Committed::step)
        .containsExactly(10L, 20L, 30L, 40L, 50L, 60L);
    List<String> manifests =
        store.list(ObjectKeys.checkpointsPrefix("t", "p", StageKind.PRETRAIN)).stream()
            .filter(k -> k.endsWith("/manifest.json"))
            .toList();
    // the newest two, plus step 30 kept for good (keepEvery 30; 60 is among the newest anyway)
    assertThat(manifests)
        .containsExactly(
            ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, 30, 2),
            ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, 50, 2),
            ObjectKeys.checkpointManifest("t", "p", StageKind.PRETRAIN, 60, 2));
    CheckpointReader.Loaded loaded = CheckpointReader.load(store, manifests.get(2));
    assertThat(loaded.manifest().step()).isEqualTo(60);
    assertThat(loaded.state().tokensSeen()).isEqualTo(60 * 64);
    assertThat(SafeTensors.read(loaded.file("model.safetensors"), "m").get("w").data())
        .containsExactly(60, 1, 2, 3);
    assertThat(new String(loaded.file("tokenizer.json"), StandardCharsets.UTF_8)).isEqualTo("{}");
    // a deleted checkpoint's files are gone too
    assertThat(store.list(ObjectKeys.checkpointPrefix("t", "p", StageKind.PRETRAIN, 10, 2)))
        .isEmpty();
  }

  /** Files go in and come out as streams (S3: a multipart upload above 5 MiB), byte for byte. */
  private void streamsFilesInAndOut(BlobStore store) throws Exception {
    byte[] data = new byte[(12 << 20) + 7];
    new java.util.Random(3).nextBytes(data);
    Path file = java.nio.file.Files.write(dir.resolve("big.bin"), data);
    store.put("teams/t/datasets/big/v1/data.bin", file);
    try (var in = store.open("teams/t/datasets/big/v1/data.bin").orElseThrow()) {
      assertThat(Checksums.sha256(in.readAllBytes())).isEqualTo(Checksums.sha256(data));
    }
    assertThat(store.open("teams/t/datasets/none/v1/data.bin")).isEmpty();
    assertThat(Checksums.sha256(file)).isEqualTo(Checksums.sha256(data));
  }

  @Test
  void onADirectory() throws Exception {
    commitsRetainsAndLoads(new DirectoryStore(dir));
    streamsFilesInAndOut(new DirectoryStore(dir.resolve("streams")));
  }

  private S3Proxy s3proxy(int port) throws Exception {
    S3Proxy proxy =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dir.toString()))
            .endpoint(URI.create("http://127.0.0.1:" + port))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "ak", "sk")
            .build();
    proxy.start();
    while (!"STARTED".equals(proxy.getState())) Thread.sleep(10);
    return proxy;
  }

  @Test
  void onS3() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    S3Proxy[] proxy = {s3proxy(port)};
    try {
      MinioClient.builder()
          .endpoint("http://127.0.0.1:" + port)
          .credentials("ak", "sk")
          .build()
          .makeBucket(MakeBucketArgs.builder().bucket("ckpt").build());
      S3Store s3 = new S3Store("http://127.0.0.1:" + port, "ak", "sk", "ckpt", "us-east-1");
      commitsRetainsAndLoads(s3);
      streamsFilesInAndOut(s3);

      // the store goes away: a write waits and goes through once it is back
      proxy[0].stop();
      List<Long> waits = new ArrayList<>();
      S3Retry comesBack =
          new S3Retry(
              60_000,
              ms -> {
                waits.add(ms);
                if (waits.size() < 2) return;
                try {
                  proxy[0] = s3proxy(port);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              System::currentTimeMillis,
              new java.util.Random(1));
      S3Store patient =
          new S3Store("http://127.0.0.1:" + port, "ak", "sk", "ckpt", "us-east-1", comesBack);
      patient.put("during-outage.bin", new byte[] {1, 2, 3});
      assertThat(waits).hasSize(2);
      assertThat(s3.get("during-outage.bin")).hasValue(new byte[] {1, 2, 3});

      // a refusal that will not pass (wrong credentials) fails at once, untried again
      List<Long> none = new ArrayList<>();
      S3Store wrongKey =
          new S3Store(
              "http://127.0.0.1:" + port,
              "ak",
              "wrong",
              "ckpt",
              "us-east-1",
              new S3Retry(60_000, none::add, System::currentTimeMillis, new java.util.Random(1)));
      assertThatThrownBy(() -> wrongKey.put("x.bin", new byte[] {1}))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("cannot write s3://ckpt/x.bin");
      assertThat(none).isEmpty();
    } finally {
      proxy[0].stop();
    }
  }

  @Test
  void safetensorsRejectsATruncatedFile() {
    byte[] bytes = SafeTensors.write(snapshot(1).model(), Map.of());
    byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 4);
    assertThatThrownBy(() -> SafeTensors.read(cut, "model.safetensors"))
        .isInstanceOf(CheckpointException.class)
        .hasMessageContaining(
            "model.safetensors: tensor w has offsets that do not fit its shape or the file");
  }
}
