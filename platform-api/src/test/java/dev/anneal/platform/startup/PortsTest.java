package dev.anneal.platform.startup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.testserver.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PortsTest {

  private static final String HOST = "127.0.0.1";

  /** Binds a real socket on {@code port}, as a component's server would. */
  private static ServerSocket bind(int port) {
    try {
      return new ServerSocket(port, 50, InetAddress.getByName(HOST));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aPickedPortTakenBeforeItIsBoundIsPickedAgain() throws Exception {
    List<Integer> tried = new ArrayList<>();
    List<ServerSocket> thieves = new ArrayList<>();
    try (ServerSocket mine =
        Ports.startOn(
            HOST,
            0,
            port -> {
              tried.add(port);
              if (tried.size() <= 2) {
                thieves.add(bind(port)); // another process wins the race for this port
              }
              return bind(port);
            })) {
      assertThat(tried).hasSize(3).doesNotHaveDuplicates();
      assertThat(mine.getLocalPort()).isEqualTo(tried.get(2));
    } finally {
      for (ServerSocket s : thieves) {
        s.close();
      }
    }
  }

  @Test
  void aConfiguredPortIsNeverSwappedAndOtherFailuresAreNotRetried() throws Exception {
    try (ServerSocket taken = bind(0)) {
      int port = taken.getLocalPort();
      List<Integer> tried = new ArrayList<>();
      assertThatThrownBy(
              () ->
                  Ports.startOn(
                      HOST,
                      port,
                      p -> {
                        tried.add(p);
                        return bind(p);
                      }))
          .isInstanceOf(UncheckedIOException.class);
      assertThat(tried).containsExactly(port);
    }
    int[] calls = {0};
    assertThatThrownBy(
            () ->
                Ports.startOn(
                    HOST,
                    0,
                    p -> {
                      calls[0]++;
                      throw new IllegalStateException("s3proxy state FAILED");
                    }))
        .hasMessage("s3proxy state FAILED");
    assertThat(calls[0]).isEqualTo(1);
  }

  @Test
  void givesUpAfterAFewPicksWithTheLastBindFailure() {
    int[] calls = {0};
    assertThatThrownBy(
            () ->
                Ports.startOn(
                    HOST,
                    0,
                    p -> {
                      calls[0]++;
                      throw new IllegalStateException(
                          "start failed", new java.net.BindException("Address already in use"));
                    }))
        .hasMessage("start failed");
    assertThat(calls[0]).isEqualTo(Ports.PICKS);
  }

  @Test
  void temporalsServerFailureOnATakenPortIsRecognisedAsABindFailure() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      Throwable failure = null;
      try {
        TestServer.createPortBoundServer(taken.getLocalPort(), true).close();
      } catch (RuntimeException e) {
        failure = e;
      }
      assertThat(failure).as("the server started on a taken port").isNotNull();
      assertThat(Ports.isBindFailure(failure)).as(failure.toString()).isTrue();
    }
  }
}
