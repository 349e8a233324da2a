package dev.anneal.platform.api.datasets;

import dev.anneal.activities.store.ObjectStore;
import dev.anneal.datafiles.ParquetDataset;
import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.teams.Teams;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.workflows.api.status.PipelineStatus;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;

/**
 * A team's datasets: JSONL or Parquet files in S3 under {@code teams/<team>/datasets/<name>/v<n>/},
 * checked record by record on upload (a Parquet file told by its first bytes), with sha256, size
 * and record count in PostgreSQL. Versions are never overwritten; a new upload under the same name
 * is the next version.
 */
@Component
public class Datasets {

  public record Dataset(
      UUID id,
      String name,
      int version,
      String format,
      String file,
      long bytes,
      Long records,
      String sha256,
      String key,
      String source,
      OffsetDateTime createdAt,
      OffsetDateTime deletedAt) {}

  private static final RowMapper<Dataset> ROW =
      (rs, i) -> {
        long records = rs.getLong("records");
        Long rec = rs.wasNull() ? null : records;
        return new Dataset(
            rs.getObject("id", UUID.class),
            rs.getString("name"),
            rs.getInt("version"),
            rs.getString("format"),
            rs.getString("uri").endsWith(".parquet") ? "parquet" : "jsonl",
            rs.getLong("bytes"),
            rec,
            rs.getString("sha256"),
            rs.getString("uri"),
            "dataset:" + rs.getString("name") + "@v" + rs.getInt("version"),
            rs.getObject("created_at", OffsetDateTime.class),
            rs.getObject("deleted_at", OffsetDateTime.class));
      };

  private final JdbcTemplate jdbc;
  private final ObjectStore store;

  public Datasets(JdbcTemplate jdbc, ObjectStore store) {
    this.jdbc = jdbc;
    this.store = store;
  }

  static String checkName(String name) {
    if (name == null || !name.matches(Teams.NAME_PATTERN)) {
      throw ApiException.badRequest(
          "name: a dataset name is 1 to 63 of a-z, 0-9, '.', '_', '-' starting with a letter or"
              + " digit, got '"
              + name
              + "'",
          "name");
    }
    return name;
  }

  /** Checks and stores an upload as the next version of the dataset. */
  public Dataset upload(Caller caller, String name, String format, InputStream body)
      throws IOException {
    checkName(name);
    BufferedInputStream in = new BufferedInputStream(body, 1 << 16);
    boolean parquet = ParquetDataset.isParquet(in);
    String file = parquet ? "parquet" : "jsonl";
    Path tmp = Files.createTempFile("anneal-upload-", "." + file);
    try {
      JsonlCheck.Result r = parquet ? checkParquet(in, tmp, format) : checkJsonl(in, tmp, format);
      for (int tries = 0; ; tries++) {
        int version =
            jdbc.queryForObject(
                "SELECT COALESCE(max(version), 0) + 1 FROM datasets WHERE team_id = ? AND name = ?",
                Integer.class,
                caller.teamId(),
                name);
        String key = ObjectKeys.dataset(caller.team(), name, version, file);
        UUID id = UUID.randomUUID();
        try {
          jdbc.update(
              "INSERT INTO datasets (id, team_id, name, version, uri, sha256, format, bytes,"
                  + " records) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              id,
              caller.teamId(),
              name,
              version,
              key,
              r.sha256(),
              r.format(),
              r.bytes(),
              r.records());
        } catch (DuplicateKeyException e) {
          if (tries < 5) continue;
          throw ApiException.conflict("dataset " + name + " is being uploaded concurrently; retry");
        }
        try {
          store.putFile(
              key,
              tmp,
              r.sha256(),
              parquet ? "application/vnd.apache.parquet" : "application/x-ndjson");
        } catch (RuntimeException e) {
          jdbc.update("DELETE FROM datasets WHERE id = ?", id);
          throw e;
        }
        return get(caller, id).orElseThrow();
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static JsonlCheck.Result checkJsonl(InputStream in, Path tmp, String format)
      throws IOException {
    try (OutputStream out = Files.newOutputStream(tmp)) {
      return JsonlCheck.copy(in, out, format);
    } catch (JsonlCheck.BadLine e) {
      throw new ApiException(
              HttpStatus.UNPROCESSABLE_ENTITY, "invalid-dataset", e.getMessage(), "file")
          .with("line", e.line);
    }
  }

  /** Streams a Parquet upload to {@code tmp}, then checks its columns and rows. */
  private static JsonlCheck.Result checkParquet(InputStream in, Path tmp, String format)
      throws IOException {
    ParquetCheck.Spooled spooled;
    try (OutputStream out = Files.newOutputStream(tmp)) {
      spooled = ParquetCheck.copy(in, out);
    }
    try {
      return ParquetCheck.check(tmp, format, spooled);
    } catch (ParquetCheck.Bad e) {
      ApiException x =
          new ApiException(
              HttpStatus.UNPROCESSABLE_ENTITY, "invalid-dataset", e.getMessage(), "file");
      if (e.column != null) x.with("column", e.column);
      if (e.rowGroup != null) x.with("rowGroup", e.rowGroup);
      if (e.row != null) x.with("row", e.row);
      throw x;
    }
  }

  Optional<Dataset> get(Caller caller, UUID id) {
    return jdbc
        .query("SELECT * FROM datasets WHERE team_id = ? AND id = ?", ROW, caller.teamId(), id)
        .stream()
        .findFirst();
  }

  /** The newest live version of each dataset of the team. */
  public List<Dataset> latest(Caller caller) {
    return jdbc.query(
        "SELECT DISTINCT ON (name) * FROM datasets WHERE team_id = ? AND deleted_at IS NULL"
            + " ORDER BY name, version DESC",
        ROW,
        caller.teamId());
  }

  /** Every version of one dataset, newest first; deleted ones too (lineage), marked. */
  public List<Dataset> versions(Caller caller, String name) {
    List<Dataset> all =
        jdbc.query(
            "SELECT * FROM datasets WHERE team_id = ? AND name = ? ORDER BY version DESC",
            ROW,
            caller.teamId(),
            name);
    if (all.isEmpty()) throw ApiException.notFound("dataset", name);
    return all;
  }

  public Dataset version(Caller caller, String name, int version) {
    return jdbc
        .query(
            "SELECT * FROM datasets WHERE team_id = ? AND name = ? AND version = ?",
            ROW,
            caller.teamId(),
            name,
            version)
        .stream()
        .findFirst()
        .orElseThrow(() -> ApiException.notFound("dataset", name + "@v" + version));
  }

  /**
   * The live dataset a spec's {@code dataset:<name>[@v<n>]} means for this team: the named version,
   * or the newest one.
   */
  public Optional<Dataset> resolve(UUID teamId, String name, Integer version) {
    return jdbc
        .query(
            "SELECT * FROM datasets WHERE team_id = ? AND name = ? AND deleted_at IS NULL"
                + (version == null ? "" : " AND version = " + version.intValue())
                + " ORDER BY version DESC LIMIT 1",
            ROW,
            teamId,
            name)
        .stream()
        .findFirst();
  }

  /** Deletes one version (or all, when version is null), unless an active pipeline reads it. */
  public List<Dataset> delete(Caller caller, String name, Integer version) {
    List<Dataset> targets =
        version == null
            ? versions(caller, name).stream().filter(d -> d.deletedAt() == null).toList()
            : List.of(version(caller, name, version));
    for (Dataset d : targets) {
      List<String> users =
          jdbc.queryForList(
              "SELECT p.id::text FROM pipeline_datasets u JOIN pipelines p ON p.id = u.pipeline_id"
                  + " WHERE u.dataset_id = ? AND p.status = ANY(?) ORDER BY p.created_at",
              String.class,
              d.id(),
              PipelineStatus.activeNames());
      if (!users.isEmpty()) {
        throw ApiException.conflict(
                "dataset "
                    + d.source()
                    + " is read by "
                    + users.size()
                    + " active pipeline(s) ("
                    + String.join(", ", users)
                    + "); delete it when they have finished")
            .with("pipelines", users);
      }
    }
    for (Dataset d : targets) {
      if (d.deletedAt() != null) continue;
      store.delete(d.key());
      jdbc.update(
          "UPDATE datasets SET deleted_at = now() WHERE id = ? AND deleted_at IS NULL", d.id());
    }
    return targets;
  }
}
