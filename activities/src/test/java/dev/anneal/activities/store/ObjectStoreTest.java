package dev.anneal.activities.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real S3 server: s3proxy on a filesystem store, signed with AWS v4. */
class ObjectStoreTest {

  @TempDir static Path dir;
  private static S3Proxy proxy;
  private static ObjectStore store;

  @BeforeAll
  static void start() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    proxy =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dir.toString()))
            .endpoint(URI.create("http://127.0.0.1:" + port))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "test-access", "test-secret")
            .build();
    proxy.start();
    while (!"STARTED".equals(proxy.getState())) {
      Thread.sleep(10);
    }
    store =
        new ObjectStore(
            new S3Settings(
                "http://127.0.0.1:" + port, "test-access", "test-secret", "anneal-test", null));
    assertThat(store.ensureBucket()).isTrue();
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.stop();
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
