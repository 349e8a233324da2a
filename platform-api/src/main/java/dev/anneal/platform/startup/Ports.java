package dev.anneal.platform.startup;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Port checks done before anything binds, so a clash is reported by name. */
public final class Ports {
  private static final Logger log = LoggerFactory.getLogger(Ports.class);

  private Ports() {}

  /** Fails with a one-line explanation if {@code host:port} cannot be bound. */
  public static void requireFree(String component, String host, int port, String option) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
    } catch (IOException e) {
      throw new StartupException(
          component,
          "port " + port + " on " + host + " is already in use",
          "stop the process that holds it (another 'anneal serve'?) or choose another port with "
              + option,
          e);
    }
  }

  /** Starts a component on a port it is given; fails with an exception naming the port. */
  @FunctionalInterface
  public interface Starter<T> {
    T startOn(int port);
  }

  /** How many free ports {@link #startOn} tries before it gives up. */
  static final int PICKS = 5;

  /**
   * Starts a component on {@code configured}, or, when that is 0, on a port picked free just
   * before; if another process binds the picked port first, picks again, up to {@link #PICKS}
   * times. Any other failure is thrown at once.
   */
  public static <T> T startOn(String host, int configured, Starter<T> starter) {
    if (configured > 0) {
      return starter.startOn(configured);
    }
    RuntimeException last = null;
    for (int i = 0; i < PICKS; i++) {
      int port = pickFree(host);
      try {
        return starter.startOn(port);
      } catch (RuntimeException e) {
        if (!isBindFailure(e)) {
          throw e;
        }
        log.info("port {} was taken before it could be bound; picking another", port);
        last = e;
      }
    }
    throw last;
  }

  /** Whether a start failed because its port was taken (by a JDK socket, Jetty or Netty). */
  static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage();
      if (t instanceof BindException
          || m.contains("Address already in use")
          || m.contains("Failed to bind")) {
        return true;
      }
    }
    return false;
  }

  /** A port the OS says is free now; used when a port is configured as 0. */
  public static int pickFree(String host) {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("cannot find a free port on " + host, e);
    }
  }
}
