package dev.anneal.activities.checkpoints;

import dev.anneal.activities.store.ObjectStore;
import dev.anneal.activities.store.ObjectStoreException;
import dev.anneal.activities.store.StoredObject;
import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolException;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A stage's committed checkpoints as the rollback planner needs them, read from the manifests in
 * S3. A checkpoint counts only when its manifest parses and every file it lists exists with the
 * recorded size; one that does not is skipped and reported, so the planner falls back to an earlier
 * good one. (The runner verifies every byte's sha256 again when it resumes.)
 */
public final class CheckpointCatalog {

  private final ObjectStore store;

  public CheckpointCatalog(ObjectStore store) {
    this.store = store;
  }

  /**
   * @param problems receives one line for each checkpoint that was skipped, naming it and why
   */
  public List<CheckpointCandidate> candidates(
      String team, String pipeline, StageKind stage, Consumer<String> problems) {
    String prefix = ObjectKeys.checkpointsPrefix(team, pipeline, stage);
    List<StoredObject> objects = store.list(prefix);
    Map<String, Long> sizes =
        objects.stream()
            .collect(Collectors.toMap(StoredObject::key, StoredObject::bytes, (a, b) -> a));
    List<CheckpointCandidate> out = new ArrayList<>();
    for (StoredObject o : objects) {
      if (!o.key().endsWith("/" + ObjectKeys.MANIFEST)) continue;
      String dir = o.key().substring(0, o.key().length() - ObjectKeys.MANIFEST.length());
      CheckpointManifest m;
      try {
        m = ProtocolJson.readManifest(new String(store.get(o.key()), StandardCharsets.UTF_8));
      } catch (ProtocolException | ObjectStoreException e) {
        problems.accept(
            "checkpoint "
                + o.key()
                + " skipped: its manifest is unreadable ("
                + e.getMessage()
                + ")");
        continue;
      }
      String missing =
          m.files().stream()
              .filter(f -> !Long.valueOf(f.bytes()).equals(sizes.get(dir + f.path())))
              .map(CheckpointManifest.FileEntry::path)
              .collect(Collectors.joining(", "));
      if (!missing.isEmpty()) {
        problems.accept(
            "checkpoint " + o.key() + " skipped: files missing or of the wrong size: " + missing);
        continue;
      }
      out.add(
          new CheckpointCandidate(
              m.step(), m.batchesConsumed(), o.key(), m.health().healthy(), m.attempt()));
    }
    out.sort(Comparator.comparingLong(CheckpointCandidate::step));
    return out;
  }
}
