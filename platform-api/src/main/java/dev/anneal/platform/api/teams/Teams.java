package dev.anneal.platform.api.teams;

import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.workflows.api.status.PipelineStatus;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;

/** Teams, their members, quotas and usage, in PostgreSQL. */
@Component
public class Teams {
  public static final String NAME_PATTERN = "[a-z0-9][a-z0-9._-]{0,62}";

  public record Team(
      UUID id,
      String name,
      String displayName,
      boolean operator,
      int maxConcurrentPipelines,
      BigDecimal gpuHoursQuota,
      OffsetDateTime createdAt) {}

  public record Member(String email, String role, OffsetDateTime createdAt) {}

  /** What a team uses against its quotas. */
  public record Usage(
      String team,
      int activePipelines,
      int maxConcurrentPipelines,
      double gpuHoursUsed,
      BigDecimal gpuHoursQuota) {}

  private static final RowMapper<Team> TEAM =
      (rs, i) ->
          new Team(
              rs.getObject("id", UUID.class),
              rs.getString("name"),
              rs.getString("display_name"),
              rs.getBoolean("operator"),
              rs.getInt("max_concurrent_pipelines"),
              rs.getBigDecimal("gpu_hours_quota"),
              rs.getObject("created_at", OffsetDateTime.class));

  private final JdbcTemplate jdbc;

  public Teams(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  public Optional<Team> byName(String name) {
    return jdbc.query("SELECT * FROM teams WHERE name = ?", TEAM, name).stream().findFirst();
  }

  public Team byId(UUID id) {
    return jdbc.queryForObject("SELECT * FROM teams WHERE id = ?", TEAM, id);
  }

  /** The team the caller may see under this name: its own, or any for an operator; else 404. */
  public Team visible(Caller caller, String name) {
    if (!caller.operator() && !caller.team().equals(name))
      throw ApiException.notFound("team", name);
    return byName(name).orElseThrow(() -> ApiException.notFound("team", name));
  }

  public List<Team> list(Caller caller) {
    return caller.operator()
        ? jdbc.query("SELECT * FROM teams ORDER BY name", TEAM)
        : jdbc.query("SELECT * FROM teams WHERE id = ?", TEAM, caller.teamId());
  }

  public Team create(
      String name,
      String displayName,
      Integer maxConcurrent,
      BigDecimal gpuHours,
      boolean operator) {
    if (name == null || !name.matches(NAME_PATTERN)) {
      throw ApiException.badRequest(
          "name: a team name is 1 to 63 of a-z, 0-9, '.', '_', '-' starting with a letter or"
              + " digit, got '"
              + name
              + "'",
          "name");
    }
    checkQuotas(maxConcurrent, gpuHours);
    UUID id = UUID.randomUUID();
    int n =
        jdbc.update(
            "INSERT INTO teams (id, name, display_name, max_concurrent_pipelines, gpu_hours_quota,"
                + " operator) VALUES (?, ?, ?, COALESCE(?, 4), ?, ?) ON CONFLICT (name) DO NOTHING",
            id,
            name,
            displayName,
            maxConcurrent,
            gpuHours,
            operator);
    if (n == 0) throw ApiException.conflict("team '" + name + "' already exists");
    return byId(id);
  }

  public Team update(Team t, String displayName, Integer maxConcurrent, BigDecimal gpuHours) {
    checkQuotas(maxConcurrent, gpuHours);
    jdbc.update(
        "UPDATE teams SET display_name = COALESCE(?, display_name),"
            + " max_concurrent_pipelines = COALESCE(?, max_concurrent_pipelines),"
            + " gpu_hours_quota = COALESCE(?, gpu_hours_quota) WHERE id = ?",
        displayName,
        maxConcurrent,
        gpuHours,
        t.id());
    return byId(t.id());
  }

  private static void checkQuotas(Integer maxConcurrent, BigDecimal gpuHours) {
    if (maxConcurrent != null && maxConcurrent < 0) {
      throw ApiException.badRequest(
          "maxConcurrentPipelines: must be >= 0, got " + maxConcurrent, "maxConcurrentPipelines");
    }
    if (gpuHours != null && gpuHours.signum() < 0) {
      throw ApiException.badRequest(
          "gpuHoursQuota: must be >= 0, got " + gpuHours, "gpuHoursQuota");
    }
  }

  public List<Member> members(UUID team) {
    return jdbc.query(
        "SELECT email, role, created_at FROM team_members WHERE team_id = ? ORDER BY email",
        (rs, i) ->
            new Member(rs.getString(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class)),
        team);
  }

  public Member addMember(UUID team, String email, String role) {
    if (email == null || !email.matches("[^@\\s]{1,64}@[^@\\s]{1,255}")) {
      throw ApiException.badRequest("email: not an e-mail address: '" + email + "'", "email");
    }
    String r = role == null ? "member" : role;
    if (!r.equals("member") && !r.equals("admin")) {
      throw ApiException.badRequest("role: must be member or admin, got '" + role + "'", "role");
    }
    jdbc.update(
        "INSERT INTO team_members (team_id, email, role) VALUES (?, ?, ?)"
            + " ON CONFLICT (team_id, email) DO UPDATE SET role = EXCLUDED.role",
        team,
        email.toLowerCase(),
        r);
    return members(team).stream()
        .filter(m -> m.email().equals(email.toLowerCase()))
        .findFirst()
        .orElseThrow();
  }

  public boolean removeMember(UUID team, String email) {
    return jdbc.update(
            "DELETE FROM team_members WHERE team_id = ? AND email = ?", team, email.toLowerCase())
        > 0;
  }

  public Usage usage(Team t) {
    Integer active =
        jdbc.queryForObject(
            "SELECT count(*) FROM pipelines WHERE team_id = ? AND status = ANY(?)",
            Integer.class,
            t.id(),
            PipelineStatus.activeNames());
    Double gpuHours =
        jdbc.queryForObject(
            """
            SELECT COALESCE(sum(EXTRACT(EPOCH FROM (COALESCE(a.finished_at, p.finished_at, now())
                     - a.started_at)) * s.gpus), 0) / 3600.0
            FROM attempts a JOIN stages s ON s.id = a.stage_id JOIN pipelines p ON p.id = s.pipeline_id
            WHERE p.team_id = ? AND a.started_at IS NOT NULL""",
            Double.class,
            t.id());
    return new Usage(t.name(), active, t.maxConcurrentPipelines(), gpuHours, t.gpuHoursQuota());
  }

  /**
   * Refuses a submission over the team's quotas with 429 and the figures. Called inside the
   * submitting transaction after the team's row is locked, so two racing submits cannot both pass.
   */
  public void checkQuota(Team t) {
    Usage u = usage(t);
    if (u.activePipelines() >= t.maxConcurrentPipelines()) {
      throw new ApiException(
              HttpStatus.TOO_MANY_REQUESTS,
              "quota-exceeded",
              "team '"
                  + t.name()
                  + "' has "
                  + u.activePipelines()
                  + " active pipelines and may run at most "
                  + t.maxConcurrentPipelines()
                  + " at once; wait for one to finish or cancel one")
          .with("quota", "maxConcurrentPipelines")
          .with("limit", t.maxConcurrentPipelines())
          .with("used", u.activePipelines());
    }
    if (t.gpuHoursQuota() != null && u.gpuHoursUsed() >= t.gpuHoursQuota().doubleValue()) {
      throw new ApiException(
              HttpStatus.TOO_MANY_REQUESTS,
              "quota-exceeded",
              String.format(
                  "team '%s' has used %.3f of its %s GPU-hours; ask an operator to raise"
                      + " gpuHoursQuota",
                  t.name(), u.gpuHoursUsed(), t.gpuHoursQuota().toPlainString()))
          .with("quota", "gpuHours")
          .with("limit", t.gpuHoursQuota())
          .with("used", u.gpuHoursUsed());
    }
  }
}
