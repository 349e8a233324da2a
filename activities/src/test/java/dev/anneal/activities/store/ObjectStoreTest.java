package dev.anneal.activities.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.activities.testing.LocalS3;
import dev.anneal.s3.S3Retry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real S3 server: s3proxy on a filesystem store, signed with AWS v4. */
class ObjectStoreTest {

  @TempDir static Path dir;
  private static LocalS3 s3;
  private static ObjectStore store;

  @BeforeAll
  static void start() throws Exception {
    s3 = LocalS3.start(dir);
    store =
        new ObjectStore(
            new S3Settings(
                s3.endpoint(), LocalS3.ACCESS_KEY, LocalS3.SECRET_KEY, "anneal-test", null));
    assertThat(store.ensureBucket()).isTrue();
  }

  @AfterAll
  static void stop() throws Exception {
    s3.close();
  }

  @Test
  void aCallDuringAnOutageWaitsAndGoesThroughWhileTheHealthCheckAnswersAtOnce() throws Exception {
    try (LocalS3 away = LocalS3.start(dir.resolve("outage"))) {
      S3Settings settings =
          new S3Settings(away.endpoint(), LocalS3.ACCESS_KEY, LocalS3.SECRET_KEY, "outage", null);
      List<Long> waits = new ArrayList<>();
      S3Retry comesBack =
          new S3Retry(
              60_000,
              ms -> {
                waits.add(ms);
                if (waits.size() == 2) {
                  try {
                    away.up();
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                }
              },
              System::currentTimeMillis,
              new Random(3));
      ObjectStore patient = new ObjectStore(settings, null, comesBack);
      assertThat(patient.ensureBucket()).isTrue();

      away.down();
      assertThatThrownBy(patient::bucketExists)
          .isInstanceOf(ObjectStoreException.class)
          .hasMessageStartingWith("cannot check bucket s3://outage/ at " + away.endpoint() + ": ")
          .hasMessageNotContaining("tries");
      assertThat(waits).isEmpty();

      byte[] data = "kept".getBytes(StandardCharsets.UTF_8);
      patient.put("during-outage.txt", data, "text/plain");
      assertThat(waits).hasSize(2);
      assertThat(patient.get("during-outage.txt")).isEqualTo(data);

      // a refusal that will not pass (a wrong key) fails at once, untried again
      List<Long> none = new ArrayList<>();
      ObjectStore wrongKey =
          new ObjectStore(
              new S3Settings(away.endpoint(), LocalS3.ACCESS_KEY, "wrong", "outage", null),
              null,
              new S3Retry(60_000, none::add, System::currentTimeMillis, new Random(3)));
      assertThatThrownBy(() -> wrongKey.put("x.txt", data, "text/plain"))
          .isInstanceOf(ObjectStoreException.class)
          .hasMessageStartingWith("cannot write s3://outage/x.txt at " + away.endpoint() + ": ");
      assertThat(none).isEmpty();
    }
  }

  @Test
  void ensureBucketIsIdempotent() {
    assertThat(store.ensureBucket()).isFalse();
    assertThat(store.bucketExists()).isTrue();
  }

  @Test
  void writesReadsAndRecordsSha256() {
    byte[] data = "{\"text\":\"hello\"}\n".getBytes(StandardCharsets.UTF_8);
    StoredObject put = store.put("teams/a/datasets/d/v1/data.jsonl", data, "application/x-ndjson");
    assertThat(put.sha256()).isEqualTo(ObjectStore.sha256(data));
    assertThat(store.get("teams/a/datasets/d/v1/data.jsonl")).isEqualTo(data);
    assertThat(store.stat("teams/a/datasets/d/v1/data.jsonl"))
        .get()
        .extracting(StoredObject::sha256, StoredObject::bytes)
        .containsExactly(put.sha256(), (long) data.length);
  }

  @Test
  void filesStreamInAndPresignedUrlsReadThemWithoutCredentials() throws Exception {
    java.nio.file.Path f = dir.resolve("upload.jsonl");
    byte[] data = "{\"text\":\"streamed\"}\n".getBytes(StandardCharsets.UTF_8);
    java.nio.file.Files.write(f, data);
    store.putFile(
        "teams/a/datasets/s/v1/data.jsonl", f, ObjectStore.sha256(data), "application/x-ndjson");
    assertThat(store.get("teams/a/datasets/s/v1/data.jsonl")).isEqualTo(data);
    String url =
        store.presignedGet("teams/a/datasets/s/v1/data.jsonl", java.time.Duration.ofMinutes(5));
    var http = java.net.http.HttpClient.newHttpClient();
    var r =
        http.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(data);
    // links for users outside the cluster carry the public address, signed for it
    ObjectStore outside =
        new ObjectStore(
            new S3Settings(
                s3.endpoint(), LocalS3.ACCESS_KEY, LocalS3.SECRET_KEY, "anneal-test", null),
            "https://files.example.com");
    assertThat(outside.presignedGet("teams/a/x", java.time.Duration.ofMinutes(5)))
        .startsWith("https://files.example.com/anneal-test/teams/a/x?")
        .contains("X-Amz-Signature=");
  }

  @Test
  void missingObjectIsEmptyNotAnError() {
    assertThat(store.stat("teams/a/nothing-here")).isEmpty();
  }

  @Test
  void listsByPrefixInKeyOrder() {
    store.put("teams/b/x/2", new byte[] {2}, "application/octet-stream");
    store.put("teams/b/x/1", new byte[] {1}, "application/octet-stream");
    store.put("teams/b/y/1", new byte[] {1}, "application/octet-stream");
    assertThat(store.list("teams/b/x/"))
        .extracting(StoredObject::key)
        .containsExactly("teams/b/x/1", "teams/b/x/2");
    store.delete("teams/b/x/1");
    assertThat(store.list("teams/b/x/"))
        .extracting(StoredObject::key)
        .containsExactly("teams/b/x/2");
  }

  @Test
  void bytesChangedBehindTheStoresBackAreDetected() throws Exception {
    store.put(
        "teams/c/ckpt/model.bin",
        "original weights".getBytes(StandardCharsets.UTF_8),
        "application/octet-stream");
    Path file;
    try (Stream<Path> files = Files.walk(dir)) {
      file = files.filter(p -> p.toString().endsWith("model.bin")).findFirst().orElseThrow();
    }
    Files.writeString(file, "flipped weights!");
    assertThatThrownBy(() -> store.get("teams/c/ckpt/model.bin"))
        .isInstanceOf(CorruptObjectException.class)
        .hasMessageContaining("s3://anneal-test/teams/c/ckpt/model.bin is corrupt");
  }

  @Test
  void unreachableEndpointNamesTheAddress() {
    ObjectStore nowhere =
        new ObjectStore(new S3Settings("http://127.0.0.1:1", "a", "b", "bucket", null));
    assertThatThrownBy(nowhere::bucketExists)
        .isInstanceOf(ObjectStoreException.class)
        .hasMessageContaining("http://127.0.0.1:1")
        .hasMessageContaining("Connect");
  }
}
