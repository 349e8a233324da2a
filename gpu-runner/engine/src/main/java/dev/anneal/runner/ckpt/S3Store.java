package dev.anneal.runner.ckpt;

import dev.anneal.s3.S3Retry;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keys in an S3 bucket through the MinIO client; sha256 recorded in user metadata. Every call is
 * retried while the failure may pass ({@link S3Retry}: the store unreachable, 5xx, 408, 429), for
 * up to two minutes; a streamed upload starts again from the file.
 */
public final class S3Store implements BlobStore {
  private final MinioClient client;
  private final String bucket;
  private final String endpoint;
  private final S3Retry retry;

  public S3Store(
      String endpoint, String accessKey, String secretKey, String bucket, String region) {
    this(endpoint, accessKey, secretKey, bucket, region, S3Retry.standard());
  }

  S3Store(
      String endpoint,
      String accessKey,
      String secretKey,
      String bucket,
      String region,
      S3Retry retry) {
    this.retry = retry;
    this.client =
        MinioClient.builder()
            .endpoint(endpoint)
            .credentials(accessKey, secretKey)
            .region(region)
            .build();
    this.bucket = bucket;
    this.endpoint = endpoint;
  }

  @Override
  public void put(String key, byte[] data) {
    String sha256 = Checksums.sha256(data);
    retry.run(
        "cannot write " + describe(key),
        () ->
            client.putObject(
                PutObjectArgs.builder().bucket(bucket).object(key).stream(
                        new ByteArrayInputStream(data), (long) data.length, -1L)
                    .userMetadata(Map.of("sha256", sha256))
                    .build()));
  }

  @Override
  public Optional<byte[]> get(String key) {
    // the whole read is retried: a connection cut mid-object starts the object again
    return retry.run(
        "cannot read " + describe(key),
        () -> {
          Optional<InputStream> in = object(key);
          if (in.isEmpty()) return Optional.<byte[]>empty();
          try (InputStream stream = in.get()) {
            return Optional.of(stream.readAllBytes());
          }
        });
  }

  @Override
  public Optional<InputStream> open(String key) {
    return retry.run("cannot read " + describe(key), () -> object(key));
  }

  private Optional<InputStream> object(String key) throws Exception {
    try {
      return Optional.of(
          client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build()));
    } catch (ErrorResponseException e) {
      if ("NoSuchKey".equals(e.errorResponse().code())) return Optional.empty();
      throw e;
    }
  }

  /** Streamed from the file (multipart above the client's part size), its sha256 read first. */
  @Override
  public void put(String key, Path file) {
    String sha256 = Checksums.sha256(file);
    retry.run(
        "cannot write " + describe(key),
        () -> {
          try (InputStream in = Files.newInputStream(file)) {
            return client.putObject(
                PutObjectArgs.builder().bucket(bucket).object(key).stream(in, Files.size(file), -1L)
                    .userMetadata(Map.of("sha256", sha256))
                    .build());
          }
        });
  }

  @Override
  public List<String> list(String prefix) {
    return retry.run(
        "cannot list " + describe(prefix),
        () -> {
          List<String> keys = new ArrayList<>();
          for (Result<Item> r :
              client.listObjects(
                  ListObjectsArgs.builder()
                      .bucket(bucket)
                      .prefix(prefix)
                      .recursive(true)
                      .build())) {
            keys.add(r.get().objectName());
          }
          keys.sort(null);
          return keys;
        });
  }

  @Override
  public void delete(String key) {
    retry.run(
        "cannot delete " + describe(key),
        () -> {
          client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
          return null;
        });
  }

  @Override
  public String describe(String key) {
    return "s3://" + bucket + "/" + key + " (" + endpoint + ")";
  }
}
