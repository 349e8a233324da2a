package dev.anneal.activities.store;

import dev.anneal.protocol.Sha256;
import dev.anneal.s3.S3Retry;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;

/**
 * The platform's bucket, spoken to with the MinIO client (MinIO, S3, or s3proxy in embedded mode).
 * Every object written here records its sha256 in user metadata ({@code x-amz-meta-sha256}),
 * because not every S3 server supports object tagging; reads verify it.
 *
 * <p>Every call is tried again while its failure may pass (the server unreachable, 5xx, 408, 429:
 * {@link S3Retry}, the policy the runner uses too), for up to two minutes by default, so an object
 * store that is away for half a minute delays a call rather than failing it. The health check tries
 * once.
 */
public final class ObjectStore {

  static final String SHA256_META = "sha256";

  private final MinioClient client;
  private final MinioClient presigner;
  private final S3Settings settings;
  private final S3Retry retry;

  public ObjectStore(S3Settings settings) {
    this(settings, null);
  }

  public ObjectStore(S3Settings settings, String publicEndpoint) {
    this(settings, publicEndpoint, S3Retry.standard());
  }

  /**
   * @param publicEndpoint where browsers and CLIs outside the cluster reach the same S3 server
   *     (presigned URLs are signed for it; no request is made to it), or null for the endpoint
   * @param retry how failed calls are tried again ({@link S3Retry#once()}: never)
   */
  public ObjectStore(S3Settings settings, String publicEndpoint, S3Retry retry) {
    this.settings = settings;
    this.retry = retry;
    OkHttpClient http =
        new OkHttpClient.Builder()
            .connectTimeout(5, TimeUnit.SECONDS)
            .readTimeout(5, TimeUnit.MINUTES)
            .writeTimeout(5, TimeUnit.MINUTES)
            .retryOnConnectionFailure(true)
            .build();
    this.client =
        MinioClient.builder()
            .endpoint(settings.endpoint())
            .credentials(settings.accessKey(), settings.secretKey())
            .region(settings.region())
            .httpClient(http)
            .build();
    this.presigner =
        publicEndpoint == null || publicEndpoint.isBlank()
            ? client
            : MinioClient.builder()
                .endpoint(publicEndpoint)
                .credentials(settings.accessKey(), settings.secretKey())
                // a known region: presigning then needs no request to the public endpoint
                .region(settings.region())
                .build();
  }

  public S3Settings settings() {
    return settings;
  }

  public String bucket() {
    return settings.bucket();
  }

  /** Creates the bucket if it does not exist yet; returns true if it was created. */
  public boolean ensureBucket() {
    return call(
        "create bucket",
        "",
        () -> {
          if (client.bucketExists(BucketExistsArgs.builder().bucket(bucket()).build())) {
            return false;
          }
          client.makeBucket(
              MakeBucketArgs.builder().bucket(bucket()).region(settings.region()).build());
          return true;
        });
  }

  /** Whether the bucket exists, from one try (a health check answers now, not in two minutes). */
  public boolean bucketExists() {
    return call(
        S3Retry.once(),
        "check bucket",
        "",
        () -> client.bucketExists(BucketExistsArgs.builder().bucket(bucket()).build()));
  }

  public StoredObject put(String key, byte[] data, String contentType) {
    String sha = sha256(data);
    call(
        "write",
        key,
        () ->
            client.putObject(
                PutObjectArgs.builder().bucket(bucket()).object(key).stream(
                        new ByteArrayInputStream(data), (long) data.length, -1L)
                    .contentType(contentType)
                    .userMetadata(Map.of(SHA256_META, sha))
                    .build()));
    return new StoredObject(key, data.length, sha);
  }

  /**
   * Streams a file to an object, recording the sha256 the caller computed while it wrote the file.
   */
  public StoredObject putFile(String key, Path file, String sha256, String contentType) {
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new ObjectStoreException("cannot read " + file + ": " + e.getMessage(), e);
    }
    call(
        "write",
        key,
        () -> {
          try (InputStream in = Files.newInputStream(file)) {
            return client.putObject(
                PutObjectArgs.builder().bucket(bucket()).object(key).stream(in, size, -1L)
                    .contentType(contentType)
                    .userMetadata(Map.of(SHA256_META, sha256))
                    .build());
          }
        });
    return new StoredObject(key, size, sha256);
  }

  /** A URL that lets its holder GET one object, without credentials, until it expires. */
  public String presignedGet(String key, Duration expiry) {
    return call(
        "presign",
        key,
        () ->
            presigner.getPresignedObjectUrl(
                GetPresignedObjectUrlArgs.builder()
                    .method(Http.Method.GET)
                    .bucket(bucket())
                    .object(key)
                    .expiry((int) expiry.toSeconds())
                    .build()));
  }

  /** Reads a whole object and verifies its recorded sha256. */
  public byte[] get(String key) {
    byte[] data =
        call(
            "read",
            key,
            () -> {
              try (InputStream in =
                  client.getObject(GetObjectArgs.builder().bucket(bucket()).object(key).build())) {
                return in.readAllBytes();
              }
            });
    Optional<StoredObject> meta = stat(key);
    String expected = meta.map(StoredObject::sha256).orElse(null);
    if (expected != null && !expected.equals(sha256(data))) {
      throw new CorruptObjectException(
          "s3://"
              + bucket()
              + "/"
              + key
              + " is corrupt: its sha256 is "
              + sha256(data)
              + " but "
              + expected
              + " was recorded when it was written");
    }
    return data;
  }

  public Optional<StoredObject> stat(String key) {
    return call(
        "stat",
        key,
        () -> {
          try {
            StatObjectResponse r =
                client.statObject(StatObjectArgs.builder().bucket(bucket()).object(key).build());
            return Optional.of(new StoredObject(key, r.size(), metaValue(r, SHA256_META)));
          } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code())
                || "NoSuchObject".equals(e.errorResponse().code())) {
              return Optional.empty();
            }
            throw e;
          }
        });
  }

  /** Lists objects under a prefix, recursively, in key order; sha256 is not fetched here. */
  public List<StoredObject> list(String prefix) {
    return call(
        "list",
        prefix,
        () -> {
          List<StoredObject> out = new ArrayList<>();
          for (Result<Item> r :
              client.listObjects(
                  ListObjectsArgs.builder()
                      .bucket(bucket())
                      .prefix(prefix)
                      .recursive(true)
                      .build())) {
            Item item = r.get();
            out.add(new StoredObject(item.objectName(), item.size(), null));
          }
          return out;
        });
  }

  public void delete(String key) {
    call(
        "delete",
        key,
        () -> {
          client.removeObject(RemoveObjectArgs.builder().bucket(bucket()).object(key).build());
          return null;
        });
  }

  public static String sha256(byte[] data) {
    return Sha256.hex(data);
  }

  private static String metaValue(StatObjectResponse r, String name) {
    // header names come back in whatever case the server chose
    for (var e : r.userMetadata().entrySet()) {
      if (e.getKey().equalsIgnoreCase(name)) {
        return e.getValue();
      }
    }
    return null;
  }

  private <T> T call(String what, String key, S3Retry.Call<T> body) {
    return call(retry, what, key, body);
  }

  private <T> T call(S3Retry tries, String what, String key, S3Retry.Call<T> body) {
    String where =
        "cannot " + what + " s3://" + bucket() + "/" + key + " at " + settings.endpoint();
    return tries.run(
        where,
        body,
        (e, after) ->
            e instanceof ObjectStoreException o && after.isEmpty()
                ? o
                : new ObjectStoreException(where + ": " + describe(e) + after, e));
  }

  private static String describe(Throwable e) {
    if (e instanceof ErrorResponseException err) {
      return err.errorResponse().code() + " (" + err.errorResponse().message() + ")";
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName()
        + (root.getMessage() != null ? ": " + root.getMessage() : "");
  }
}
