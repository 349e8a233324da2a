package dev.anneal.platform.api.pipelines;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A WHERE clause built from optional conditions, with its parameters in order. */
final class Where {
  private final StringBuilder sql;
  private final List<Object> args = new ArrayList<>();

  /**
   * @param base the fixed conditions, e.g. {@code " WHERE stage_id = ? AND name = ?"}
   */
  Where(String base, Object... params) {
    this.sql = new StringBuilder(base);
    args.addAll(List.of(params));
  }

  /**
   * Adds {@code AND condition} with its parameters (one a {@code ?}) when the first is there;
   * Instants go as Timestamps.
   */
  Where and(String condition, Object... values) {
    if (values[0] != null) {
      sql.append(" AND ").append(condition);
      for (Object v : values) args.add(v instanceof Instant t ? Timestamp.from(t) : v);
    }
    return this;
  }

  /** Adds {@code AND column IN (?, …)}. */
  Where in(String column, List<?> values) {
    sql.append(" AND ")
        .append(column)
        .append(" IN (")
        .append(String.join(", ", Collections.nCopies(values.size(), "?")))
        .append(")");
    args.addAll(values);
    return this;
  }

  String sql() {
    return sql.toString();
  }

  /** The parameters, then {@code more} (e.g. a LIMIT). */
  Object[] args(Object... more) {
    List<Object> all = new ArrayList<>(args);
    all.addAll(List.of(more));
    return all.toArray();
  }
}
