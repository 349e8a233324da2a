package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.annotation.JsonRawValue;
import dev.anneal.platform.api.ApiException;
import io.swagger.v3.oas.annotations.media.Schema;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** A pipeline's event log for the API: pages by id, either way, filtered by severity and type. */
@Component
public class EventReads {
  private final JdbcTemplate jdbc;

  public EventReads(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  /** One entry of the pipeline's log. {@code payload} is the runner event as sent, or null. */
  public record Event(
      long id,
      OffsetDateTime time,
      String stage,
      Integer attempt,
      String type,
      String severity,
      String message,
      @JsonRawValue
          @Schema(implementation = java.util.Map.class, description = "the runner event as sent")
          String payload) {}

  /**
   * A page of the log: in order, {@code nextAfter} continues it; newest first, {@code nextBefore}.
   */
  public record EventPage(List<Event> events, Long nextAfter, Long nextBefore) {}

  public static final List<String> SEVERITIES = List.of("DEBUG", "INFO", "WARN", "ERROR");

  public List<Event> events(UUID pipeline, long after, int limit, String minSeverity, String type) {
    return events(pipeline, after, null, false, limit, minSeverity, type);
  }

  /**
   * The log in order after {@code after}, or newest first ({@code desc}) before {@code before}
   * (null: from the newest).
   */
  public List<Event> events(
      UUID pipeline,
      long after,
      Long before,
      boolean desc,
      int limit,
      String minSeverity,
      String type) {
    Where where =
        new Where(" WHERE e.pipeline_id = ? AND e.id > ?", pipeline, after).and("e.id < ?", before);
    if (minSeverity != null) {
      int from = SEVERITIES.indexOf(minSeverity.toUpperCase());
      if (from < 0) {
        throw ApiException.badRequest(
            "minSeverity: must be one of " + SEVERITIES + ", got '" + minSeverity + "'",
            "minSeverity");
      }
      where.in("e.severity", SEVERITIES.subList(from, SEVERITIES.size()));
    }
    where.and("e.type = ?", type);
    return jdbc.query(
        "SELECT e.id, e.created_at, s.name, a.number, e.type, e.severity, e.message,"
            + " e.payload::text FROM events e LEFT JOIN stages s ON s.id = e.stage_id"
            + " LEFT JOIN attempts a ON a.id = e.attempt_id"
            + where.sql()
            + (desc ? " ORDER BY e.id DESC LIMIT ?" : " ORDER BY e.id LIMIT ?"),
        (rs, i) -> event(rs),
        where.args(limit));
  }

  private static Event event(ResultSet rs) throws SQLException {
    int attempt = rs.getInt(4);
    Integer a = rs.wasNull() ? null : attempt;
    return new Event(
        rs.getLong(1),
        rs.getObject(2, OffsetDateTime.class),
        rs.getString(3),
        a,
        rs.getString(5),
        rs.getString(6),
        rs.getString(7),
        rs.getString(8));
  }
}
