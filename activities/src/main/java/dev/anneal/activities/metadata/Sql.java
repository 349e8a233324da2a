package dev.anneal.activities.metadata;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The one way the metadata writers talk to PostgreSQL: a unit of work in its own transaction
 * (rolled back on any failure), or on a connection a caller's transaction already holds; positional
 * parameters, where an enum binds as its name and null as SQL NULL; rows mapped to records.
 */
public final class Sql {

  /** Work on one connection; runs inside a transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** One row to a value. */
  @FunctionalInterface
  public interface Row<T> {
    T map(ResultSet rs) throws SQLException;
  }

  private final DataSource ds;

  public Sql(DataSource ds) {
    this.ds = ds;
  }

  /** {@code work} in its own transaction: committed if it returns, rolled back if it throws. */
  public <T> T tx(Work<T> work) {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new MetadataException("PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** One statement in its own transaction; returns the rows it changed. */
  public int update(String sql, Object... params) {
    return tx(c -> update(c, sql, params));
  }

  /** One statement on a connection the caller's transaction holds. */
  public static int update(Connection c, String sql, Object... params) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      return ps.executeUpdate();
    }
  }

  /** The first row of a query, if any. */
  public <T> Optional<T> one(String sql, Row<T> row, Object... params) {
    return tx(c -> one(c, sql, row, params));
  }

  public static <T> Optional<T> one(Connection c, String sql, Row<T> row, Object... params)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.ofNullable(row.map(rs)) : Optional.empty();
      }
    }
  }

  /** Every row of a query, in its order. */
  public <T> List<T> list(String sql, Row<T> row, Object... params) {
    return tx(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            List<T> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) out.add(row.map(rs));
            }
            return out;
          }
        });
  }

  /** Positional parameters: an enum as its name, null as SQL NULL. */
  public static void bind(PreparedStatement ps, Object... params) throws SQLException {
    for (int i = 0; i < params.length; i++) {
      Object p = params[i];
      ps.setObject(i + 1, p instanceof Enum<?> e ? e.name() : p);
    }
  }

  /** A nullable long column. */
  static Long longOrNull(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  /** A nullable double column. */
  static Double doubleOrNull(ResultSet rs, int column) throws SQLException {
    double v = rs.getDouble(column);
    return rs.wasNull() ? null : v;
  }

  /** A metadata operation failed in the database. */
  public static final class MetadataException extends RuntimeException {
    MetadataException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
