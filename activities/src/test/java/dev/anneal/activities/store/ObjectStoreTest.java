package dev.anneal.activities.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.activities.testing.LocalS3;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
