package dev.anneal.platform.chaos;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * What PostgreSQL holds of the benchmark's one-stage pipeline once it ended: its attempts, every
 * loss point with its step and the runner's time, its checkpoints and its stage decisions.
 */
record RunRecord(
    String status,
    String failureReason,
    List<Attempt> attempts,
    Map<Integer, List<Point>> losses,
    List<Checkpoint> checkpoints,
    List<String> decisions) {

  record Attempt(
      int number,
      String cause,
      String status,
      Long resumeStep,
      Integer resumeAttempt,
      Integer exitCode,
      String reason) {}

  /** One stored loss point: the 0-based step index and when the runner measured it. */
  record Point(long step, Instant at) {}

  record Checkpoint(int attempt, long step, String uri, String state) {}

  static RunRecord read(String jdbcUrl, UUID pipeline) throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
      String status;
      String reason;
      try (PreparedStatement s =
          c.prepareStatement("SELECT status, failure_reason FROM pipelines WHERE id = ?")) {
        s.setObject(1, pipeline);
        try (ResultSet r = s.executeQuery()) {
          if (!r.next()) throw new SQLException("no pipeline " + pipeline);
          status = r.getString(1);
          reason = r.getString(2);
        }
      }
      List<Attempt> attempts = new ArrayList<>();
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT a.number, a.cause, a.status, a.resume_step, a.resume_attempt, a.exit_code,"
                  + " a.reason FROM attempts a JOIN stages st ON st.id = a.stage_id"
                  + " WHERE st.pipeline_id = ? ORDER BY a.number")) {
        s.setObject(1, pipeline);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            attempts.add(
                new Attempt(
                    r.getInt(1),
                    r.getString(2),
                    r.getString(3),
                    (Long) r.getObject(4),
                    (Integer) r.getObject(5),
                    (Integer) r.getObject(6),
                    r.getString(7)));
          }
        }
      }
      Map<Integer, List<Point>> losses = new TreeMap<>();
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT m.attempt, m.step, m.recorded_at FROM metrics m"
                  + " JOIN stages st ON st.id = m.stage_id WHERE st.pipeline_id = ?"
                  + " AND m.name = 'loss' ORDER BY m.attempt, m.step, m.recorded_at")) {
        s.setObject(1, pipeline);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            losses
                .computeIfAbsent(r.getInt(1), k -> new ArrayList<>())
                .add(new Point(r.getLong(2), r.getTimestamp(3).toInstant()));
          }
        }
      }
      List<Checkpoint> checkpoints = new ArrayList<>();
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT coalesce(a.number, 0), k.step, k.uri, k.state FROM checkpoints k"
                  + " JOIN stages st ON st.id = k.stage_id LEFT JOIN attempts a ON a.id ="
                  + " k.attempt_id WHERE st.pipeline_id = ? ORDER BY k.step")) {
        s.setObject(1, pipeline);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            checkpoints.add(
                new Checkpoint(r.getInt(1), r.getLong(2), r.getString(3), r.getString(4)));
          }
        }
      }
      List<String> decisions = new ArrayList<>();
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT message FROM events WHERE pipeline_id = ? AND type = 'stage'"
                  + " ORDER BY created_at")) {
        s.setObject(1, pipeline);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) decisions.add(r.getString(1));
        }
      }
      return new RunRecord(status, reason, attempts, losses, checkpoints, decisions);
    }
  }
}
