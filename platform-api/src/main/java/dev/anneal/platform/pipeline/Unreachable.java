package dev.anneal.platform.pipeline;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * Whether a failure means a service could not be reached — PostgreSQL refusing connections or
 * shutting down, Temporal unavailable — so the same work can be tried again later, as opposed to
 * bad data, which cannot.
 */
final class Unreachable {

  private Unreachable() {}

  static boolean is(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectException || t instanceof SQLTransientConnectionException) {
        return true;
      }
      // 08xxx: connection exceptions; 57P01-57P03: the server is shutting down or starting
      if (t instanceof SQLException sql
          && sql.getSQLState() != null
          && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
        return true;
      }
      if (t instanceof StatusRuntimeException g
          && (g.getStatus().getCode() == Status.Code.UNAVAILABLE
              || g.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED)) {
        return true;
      }
    }
    return false;
  }

  static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }
}
