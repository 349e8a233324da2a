package dev.anneal.runner.ckpt;

import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolException;
import dev.anneal.protocol.ProtocolJson;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Loads a committed checkpoint, verifying the manifest and every file's sha256 first. */
public final class CheckpointReader {

  /** A verified checkpoint: its manifest and its files' bytes by name. */
  public record Loaded(String manifestKey, CheckpointManifest manifest, Map<String, byte[]> files) {
    public byte[] file(String name) {
      byte[] b = files.get(name);
      if (b == null) {
        throw new CheckpointException("checkpoint " + manifestKey + " has no file " + name);
      }
      return b;
    }

    public TrainerState state() {
      try {
        return ProtocolJson.mapper().readValue(file("trainer-state.json"), TrainerState.class);
      } catch (java.io.IOException e) {
        throw new CheckpointException(
            "trainer-state.json of " + manifestKey + " is unreadable: " + e.getMessage());
      }
    }
  }

  private CheckpointReader() {}

  public static Loaded load(BlobStore store, String manifestKey) {
    byte[] manifestBytes =
        store
            .get(manifestKey)
            .orElseThrow(
                () ->
                    new CheckpointException(
                        "checkpoint "
                            + store.describe(manifestKey)
                            + " has no manifest: it was never committed, or was deleted"));
    CheckpointManifest manifest;
    try {
      manifest = ProtocolJson.readManifest(new String(manifestBytes, StandardCharsets.UTF_8));
    } catch (ProtocolException e) {
      throw new CheckpointException(
          "manifest " + store.describe(manifestKey) + " is unreadable: " + e.getMessage());
    }
    String prefix = manifestKey.substring(0, manifestKey.length() - ObjectKeys.MANIFEST.length());
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (CheckpointManifest.FileEntry f : manifest.files()) {
      String key = prefix + f.path();
      byte[] data =
          store
              .get(key)
              .orElseThrow(
                  () ->
                      new CheckpointException(
                          "file " + store.describe(key) + " listed in the manifest is missing"));
      String actual = Checksums.sha256(data);
      if (!actual.equals(f.sha256())) {
        throw new CheckpointException(
            "file "
                + store.describe(key)
                + " is corrupt: its sha256 is "
                + actual
                + " but the manifest records "
                + f.sha256());
      }
      files.put(f.path(), data);
    }
    return new Loaded(manifestKey, manifest, files);
  }
}
