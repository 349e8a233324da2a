package dev.anneal.platform.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Restarts the embedded PostgreSQL under a running platform, as a database restart in production
 * would: {@code pg_ctl stop -m fast} (sessions are ended, the data is flushed), a pause, then
 * {@code pg_ctl start} of the same server with the same options and environment (read from the
 * postmaster's {@code /proc} entry), on the same data dir and port. The platform's connections
 * break and come back.
 */
final class PostgresBounce {

  private PostgresBounce() {}

  static void restart(Path pgData, Path log, Duration down)
      throws IOException, InterruptedException {
    Path pidFile = pgData.resolve("postmaster.pid");
    long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    Path proc = Path.of("/proc", Long.toString(pid));
    List<String> cmd = split(Files.readAllBytes(proc.resolve("cmdline")));
    List<String> env = split(Files.readAllBytes(proc.resolve("environ")));
    Path cwd = Files.readSymbolicLink(proc.resolve("cwd"));
    String pgCtl = Path.of(cmd.get(0)).resolveSibling("pg_ctl").toString();
    // the server's own options, less its data dir, which pg_ctl passes itself
    List<String> options = new ArrayList<>();
    for (int i = 1; i < cmd.size(); i++) {
      if (cmd.get(i).equals("-D")) {
        i++;
      } else {
        options.add(cmd.get(i));
      }
    }
    run(List.of(pgCtl, "-D", pgData.toString(), "-m", "fast", "-w", "stop"), cwd, env, log);
    ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
    Thread.sleep(down.toMillis());
    run(
        List.of(
            pgCtl,
            "-D",
            pgData.toString(),
            "-o",
            String.join(" ", options),
            "-l",
            log.resolveSibling("postgres-server.log").toString(),
            "-w",
            "start"),
        cwd,
        env,
        log);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!ready(pidFile)) {
      if (System.nanoTime() > deadline) {
        throw new IOException("PostgreSQL did not come back within 60 s; see " + log);
      }
      Thread.sleep(50);
    }
  }

  private static void run(List<String> cmd, Path cwd, List<String> env, Path log)
      throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      // pg_ctl refuses root; as zonky does, run it in a user namespace of its own
      full.addAll(List.of("unshare", "-U"));
    }
    full.addAll(cmd);
    ProcessBuilder pb = new ProcessBuilder(full).directory(cwd.toFile());
    Map<String, String> e = pb.environment();
    e.clear();
    for (String kv : env) {
      int i = kv.indexOf('=');
      if (i > 0) e.put(kv.substring(0, i), kv.substring(i + 1));
    }
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    int code = pb.start().waitFor();
    if (code != 0)
      throw new IOException(
          cmd.get(0) + " " + cmd.get(cmd.size() - 1) + " exited " + code + "; see " + log);
  }

  /** postmaster.pid's last line says {@code ready} once the server accepts connections. */
  private static boolean ready(Path pidFile) {
    try {
      List<String> lines = Files.readAllLines(pidFile);
      return lines.size() >= 8 && lines.get(7).trim().equals("ready");
    } catch (IOException e) {
      return false;
    }
  }

  private static List<String> split(byte[] nulSeparated) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < nulSeparated.length; i++) {
      if (nulSeparated[i] == 0) {
        out.add(new String(nulSeparated, start, i - start, StandardCharsets.UTF_8));
        start = i + 1;
      }
    }
    if (start < nulSeparated.length) {
      out.add(new String(nulSeparated, start, nulSeparated.length - start, StandardCharsets.UTF_8));
    }
    return out;
  }
}
