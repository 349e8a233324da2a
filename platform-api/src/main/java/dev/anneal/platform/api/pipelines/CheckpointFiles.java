package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.activities.metadata.CheckpointCatalogWriter;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.activities.store.StoredObject;
import dev.anneal.platform.api.ApiException;
import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.workflows.api.status.CheckpointState;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

/**
 * A checkpoint's files, from its manifest in S3: sizes and health figures (read once and kept in
 * PostgreSQL), and presigned download URLs for the files and the Hugging Face export beside them.
 */
@Component
public class CheckpointFiles {
  private static final Logger log = LoggerFactory.getLogger(CheckpointFiles.class);
  static final Duration URL_LIFETIME = Duration.ofHours(1);
  static final String DELETED = CheckpointState.DELETED.name();

  public record File(String path, long bytes, String sha256, String url) {}

  public record Download(
      String checkpoint, long step, Instant expiresAt, long bytes, List<File> files) {}

  private final CheckpointCatalogWriter catalog;
  private final ObjectStore store;

  public CheckpointFiles(MetadataStore meta, ObjectStore store) {
    this.catalog = meta.checkpoints();
    this.store = store;
  }

  /**
   * Fills in size and health of checkpoints whose manifest has not been read yet, and marks DELETED
   * those whose manifest is gone (removed by the runner's retention).
   */
  public List<CheckpointReads.Checkpoint> complete(List<CheckpointReads.Checkpoint> in) {
    List<CheckpointReads.Checkpoint> out = new ArrayList<>(in.size());
    for (CheckpointReads.Checkpoint c : in) {
      if (DELETED.equals(c.state())
          || c.bytes() > 0
          || (c.health() != null && !c.health().equals("{}"))) {
        out.add(c);
        continue;
      }
      try {
        if (store.stat(c.key()).isEmpty()) {
          catalog.markDeleted(c.id());
          out.add(c.withState(DELETED));
          continue;
        }
        CheckpointManifest m = manifest(c.key());
        long bytes = m.files().stream().mapToLong(CheckpointManifest.FileEntry::bytes).sum();
        ObjectNode h = ProtocolJson.mapper().valueToTree(m.health());
        h.put("healthy", m.health().healthy());
        String health = h.toString();
        catalog.setFiles(c.id(), bytes, health);
        out.add(c.withFiles(bytes, health, m.health().healthy()));
      } catch (RuntimeException e) {
        log.warn("checkpoint {}: cannot read its manifest: {}", c.key(), e.getMessage());
        out.add(c);
      }
    }
    return out;
  }

  private CheckpointManifest manifest(String key) {
    return ProtocolJson.readManifest(new String(store.get(key), StandardCharsets.UTF_8));
  }

  /** Presigned URLs for every file of the checkpoint, its manifest and its HF export. */
  public Download download(CheckpointReads.Checkpoint c) {
    if (DELETED.equals(c.state()) || store.stat(c.key()).isEmpty()) {
      throw new ApiException(
          HttpStatus.GONE,
          "checkpoint-deleted",
          "checkpoint at step "
              + c.step()
              + " was deleted by the runner's checkpoint retention (checkpoint.keepLast /"
              + " keepEvery); its files are gone");
    }
    CheckpointManifest m = manifest(c.key());
    String prefix = c.key().substring(0, c.key().lastIndexOf('/') + 1);
    List<File> files = new ArrayList<>();
    long total = 0;
    for (CheckpointManifest.FileEntry f : m.files()) {
      files.add(
          new File(
              f.path(),
              f.bytes(),
              f.sha256(),
              store.presignedGet(prefix + f.path(), URL_LIFETIME)));
      total += f.bytes();
    }
    String manifestName = c.key().substring(prefix.length());
    for (String extra : List.of("hf/", "hf-ema/")) {
      total += listed(prefix + extra, prefix, files);
    }
    files.add(
        new File(
            manifestName,
            store.stat(c.key()).map(StoredObject::bytes).orElse(0L),
            c.manifestSha256(),
            store.presignedGet(c.key(), URL_LIFETIME)));
    return new Download(c.key(), c.step(), Instant.now().plus(URL_LIFETIME), total, files);
  }

  /**
   * Presigned URLs for every file of an imported model (its {@code hf:<prefix>} key), each with the
   * sha256 the import recorded.
   */
  public Download downloadImported(String hfKey) {
    String prefix = hfKey.substring("hf:".length());
    List<File> files = new ArrayList<>();
    long total = listed(prefix, prefix, files);
    if (files.isEmpty()) {
      throw new ApiException(
          HttpStatus.GONE,
          "model-deleted",
          "the imported model's files under " + prefix + " are gone");
    }
    return new Download(hfKey, 0, Instant.now().plus(URL_LIFETIME), total, files);
  }

  /**
   * Adds every object under {@code under} to {@code files}, named relative to {@code base}, with
   * the sha256 it was stored with and a presigned URL; returns their total size.
   */
  private long listed(String under, String base, List<File> files) {
    long total = 0;
    for (StoredObject o : store.list(under)) {
      String sha = store.stat(o.key()).map(StoredObject::sha256).orElse(null);
      files.add(
          new File(
              o.key().substring(base.length()),
              o.bytes(),
              sha,
              store.presignedGet(o.key(), URL_LIFETIME)));
      total += o.bytes();
    }
    return total;
  }
}
