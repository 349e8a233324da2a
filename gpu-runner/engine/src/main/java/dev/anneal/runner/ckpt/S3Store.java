package dev.anneal.runner.ckpt;

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

/** Keys in an S3 bucket through the MinIO client; sha256 recorded in user metadata. */
public final class S3Store implements BlobStore {
  private final MinioClient client;
  private final String bucket;
  private final String endpoint;

  public S3Store(
      String endpoint, String accessKey, String secretKey, String bucket, String region) {
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
    try {
      client.putObject(
          PutObjectArgs.builder().bucket(bucket).object(key).stream(
                  new ByteArrayInputStream(data), (long) data.length, -1L)
              .userMetadata(Map.of("sha256", Checksums.sha256(data)))
              .build());
    } catch (Exception e) {
      throw new IllegalStateException("cannot write " + describe(key) + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<byte[]> get(String key) {
    Optional<InputStream> in = open(key);
    if (in.isEmpty()) return Optional.empty();
    try (InputStream stream = in.get()) {
      return Optional.of(stream.readAllBytes());
    } catch (Exception e) {
      throw new IllegalStateException("cannot read " + describe(key) + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<InputStream> open(String key) {
    try {
      return Optional.of(
          client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build()));
    } catch (ErrorResponseException e) {
      if ("NoSuchKey".equals(e.errorResponse().code())) return Optional.empty();
      throw new IllegalStateException("cannot read " + describe(key) + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot read " + describe(key) + ": " + e.getMessage(), e);
    }
  }

  /** Streamed from the file (multipart above the client's part size), its sha256 read first. */
  @Override
  public void put(String key, Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      client.putObject(
          PutObjectArgs.builder().bucket(bucket).object(key).stream(in, Files.size(file), -1L)
              .userMetadata(Map.of("sha256", Checksums.sha256(file)))
              .build());
    } catch (Exception e) {
      throw new IllegalStateException("cannot write " + describe(key) + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<String> list(String prefix) {
    List<String> keys = new ArrayList<>();
    try {
      for (Result<Item> r :
          client.listObjects(
              ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(true).build())) {
        keys.add(r.get().objectName());
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot list " + describe(prefix) + ": " + e.getMessage(), e);
    }
    keys.sort(null);
    return keys;
  }

  @Override
  public void delete(String key) {
    try {
      client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
    } catch (Exception e) {
      throw new IllegalStateException("cannot delete " + describe(key) + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String describe(String key) {
    return "s3://" + bucket + "/" + key + " (" + endpoint + ")";
  }
}
