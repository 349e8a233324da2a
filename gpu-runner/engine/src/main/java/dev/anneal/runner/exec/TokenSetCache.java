package dev.anneal.runner.exec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.Checksums;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.data.TokenShards;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Token sets in the object store, written once per dataset and tokenizer and read by every later
 * attempt and every node, so that a rollback or a restart does not encode the corpus again. A set
 * lives under {@code teams/<team>/tokens/<sha256>/}, the sha256 of the dataset's identity and the
 * tokenizer's JSON; its shards go up first and its manifest last, so a set without a manifest is
 * not one (an interrupted upload is written again). Only a dataset that cannot change under its
 * name has an identity: a registered version, one with a sha256, or a synthetic source with the
 * run's seed; a {@code file:} path or an unversioned object is encoded every time.
 */
final class TokenSetCache {
  private TokenSetCache() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A registered dataset's version, immutable once uploaded (ObjectKeys.dataset). */
  private static final Pattern REGISTERED =
      Pattern.compile("teams/[^/]+/datasets/[^/]+/v[0-9]+/data\\.jsonl");

  /** What names the dataset's content for good, or empty when it could change. */
  static Optional<String> identity(DatasetRef d, long seed) {
    if (d.sha256() != null) return Optional.of("sha256:" + d.sha256());
    if (SyntheticCorpus.Key.is(d.key())) return Optional.of(d.key() + "#seed=" + seed);
    if (REGISTERED.matcher(d.key()).matches()) return Optional.of("object:" + d.key());
    return Optional.empty();
  }

  /** The set's prefix in the store, for this dataset identity and tokenizer. */
  static String prefix(String team, String identity, String tokenizerJson) {
    String id =
        Checksums.sha256(
            (TokenShards.FORMAT + "\n" + identity + "\n" + Checksums.sha256(bytes(tokenizerJson)))
                .getBytes(StandardCharsets.UTF_8));
    return ObjectKeys.tokenSet(team, id);
  }

  /**
   * Downloads the set under {@code prefix} into {@code dir} and opens it (every shard's sha256
   * checked against its manifest); false when the store has no complete set there.
   */
  static boolean fetch(BlobStore store, String prefix, Path dir) throws IOException {
    Optional<byte[]> manifest = store.get(prefix + TokenShards.MANIFEST);
    if (manifest.isEmpty()) return false;
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve(TokenShards.MANIFEST));
    JsonNode m = JSON.readTree(manifest.get());
    for (String file : TokenShards.files(m)) {
      try (InputStream data =
          store
              .open(prefix + file)
              .orElseThrow(
                  () ->
                      new TokenShards.TokenSetException(
                          store.describe(prefix + TokenShards.MANIFEST)
                              + " names shard "
                              + file
                              + ", which is not there"))) {
        Files.copy(data, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.write(dir.resolve(TokenShards.MANIFEST), manifest.get());
    TokenShards.open(dir); // sizes and sha256s checked, or a TokenSetException naming the shard
    return true;
  }

  /** Uploads the set in {@code dir} under {@code prefix}: the shards, then the manifest. */
  static void publish(BlobStore store, String prefix, Path dir) throws IOException {
    JsonNode m = JSON.readTree(dir.resolve(TokenShards.MANIFEST).toFile());
    for (String file : TokenShards.files(m)) {
      store.put(prefix + file, dir.resolve(file));
    }
    store.put(prefix + TokenShards.MANIFEST, Files.readAllBytes(dir.resolve(TokenShards.MANIFEST)));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
