package dev.anneal.runner.ckpt;

import java.util.List;
import java.util.Optional;

/** Where checkpoints and data live: a local directory or an S3 bucket, addressed by key. */
public interface BlobStore {
  void put(String key, byte[] data);

  /** The object's bytes, or empty if there is no such object. */
  Optional<byte[]> get(String key);

  /** Keys under a prefix, in key order. */
  List<String> list(String prefix);

  void delete(String key);

  /** How to name a key for a person ({@code s3://bucket/key} or a path). */
  String describe(String key);
}
