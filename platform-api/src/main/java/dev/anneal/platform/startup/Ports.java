package dev.anneal.platform.startup;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Port checks done before anything binds, so a clash is reported by name. */
public final class Ports {
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

  /** A port the OS says is free now; used when a port is configured as 0. */
  public static int pickFree(String host) {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("cannot find a free port on " + host, e);
    }
  }
}
