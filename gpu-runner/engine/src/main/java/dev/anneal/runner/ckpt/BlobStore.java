package dev.anneal.runner.ckpt;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Where checkpoints and data live: a local directory or an S3 bucket, addressed by key. */
public interface BlobStore {
  void put(String key, byte[] data);

  /** The object's bytes, or empty if there is no such object. */
  Optional<byte[]> get(String key);

  /**
   * The object's bytes as they stream in (the caller closes the stream), or empty if there is no
   * such object; nothing is held whole.
   */
  default Optional<InputStream> open(String key) {
    return get(key).map(ByteArrayInputStream::new);
  }

  /** Writes a file's bytes under {@code key}, streamed from the file. */
  default void put(String key, Path file) {
    try {
      put(key, Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Keys under a prefix, in key order. */
  List<String> list(String prefix);

  void delete(String key);

  /** How to name a key for a person ({@code s3://bucket/key} or a path). */
  String describe(String key);
}
