package dev.anneal.platform.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder on loopback that can be cut: {@link #cut} closes the listening socket and every
 * connection through it, so clients see refused and reset connections, as when a server is
 * unreachable; {@link #restore} listens again on the same port. The chaos benchmark puts it in
 * front of the embedded S3 server.
 */
final class TcpGate implements AutoCloseable {

  private final int port;
  private final int target;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile ServerSocket server;

  TcpGate(int port, int target) throws IOException {
    this.port = port;
    this.target = target;
    restore();
  }

  synchronized void restore() throws IOException {
    if (server != null) return;
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    server = s;
    Thread t = new Thread(() -> accept(s), "tcp-gate-" + port);
    t.setDaemon(true);
    t.start();
  }

  synchronized void cut() {
    ServerSocket s = server;
    server = null;
    close(s);
    for (Socket c : open) close(c);
    open.clear();
  }

  private void accept(ServerSocket s) {
    while (!s.isClosed()) {
      Socket in;
      try {
        in = s.accept();
      } catch (IOException e) {
        continue; // closed by cut()
      }
      try {
        Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
        open.add(in);
        open.add(out);
        pump(in, out);
        pump(out, in);
      } catch (IOException e) {
        close(in); // the target refused: the client sees its connection end
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[64 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                  out.write(buf, 0, n);
                }
              } catch (IOException e) {
                // one side went away
              } finally {
                close(from);
                close(to);
                open.remove(from);
                open.remove(to);
              }
            },
            "tcp-gate-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void close(java.io.Closeable c) {
    if (c == null) return;
    try {
      c.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    cut();
  }
}
