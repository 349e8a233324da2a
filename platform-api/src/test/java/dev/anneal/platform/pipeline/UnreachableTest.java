package dev.anneal.platform.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class UnreachableTest {

  @Test
  void aServiceThatCannotBeReachedIsToldFromBadData() {
    assertThat(
            Unreachable.is(
                new RuntimeException(
                    "PostgreSQL", new SQLTransientConnectionException("pool timed out"))))
        .isTrue();
    assertThat(Unreachable.is(new IllegalStateException(new ConnectException("refused")))).isTrue();
    assertThat(Unreachable.is(new SQLException("terminating connection", "57P01"))).isTrue();
    assertThat(Unreachable.is(new SQLException("connection failure", "08006"))).isTrue();
    assertThat(Unreachable.is(Status.UNAVAILABLE.asRuntimeException())).isTrue();

    assertThat(Unreachable.is(new SQLException("duplicate key", "23505"))).isFalse();
    assertThat(Unreachable.is(new IllegalArgumentException("bad spec"))).isFalse();
    assertThat(Unreachable.is(Status.NOT_FOUND.asRuntimeException())).isFalse();
  }
}
