package dev.anneal.platform.embedded;

import dev.anneal.platform.startup.StartupException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL runs as its own process, so when {@code anneal serve} is killed ({@code
 * kill -9}, an OOM kill, a power cut of the JVM alone) it goes on running, holding its port and its
 * data dir. The next start, which holds the data dir's lock and so knows no live Anneal owns that
 * server, recognises it by its {@code postmaster.pid} and stops it cleanly before starting its own.
 */
final class OrphanPostgres {
  private static final Logger log = LoggerFactory.getLogger(OrphanPostgres.class);

  private OrphanPostgres() {}

  /** What {@link #stop} found. */
  enum Found {
    NONE,
    /** a {@code postmaster.pid} whose process is gone or is no PostgreSQL (the pid was reused) */
    STALE_PID_FILE,
    STOPPED
  }

  /**
   * Stops the PostgreSQL server an earlier, dead Anneal left running on {@code pgData}; removes a
   * {@code postmaster.pid} that names a process that is not that server. Call only while holding
   * the data dir's lock.
   */
  static Found stop(Path pgData, long gracefulMillis) {
    Path pidFile = pgData.resolve("postmaster.pid");
    List<String> lines;
    try {
      if (!Files.exists(pidFile)) {
        return Found.NONE;
      }
      lines = Files.readAllLines(pidFile);
    } catch (IOException e) {
      throw new StartupException(
          "PostgreSQL",
          "cannot read " + pidFile + " (" + e.getMessage() + ")",
          "check the data dir's permissions",
          e);
    }
    Optional<ProcessHandle> server = serverOf(lines, pgData);
    if (server.isEmpty()) {
      // postgres itself treats a live pid in the file as another server and refuses to start
      log.info("removing {}: no PostgreSQL of this data dir runs under the pid it names", pidFile);
      try {
        Files.deleteIfExists(pidFile);
      } catch (IOException e) {
        throw new StartupException(
            "PostgreSQL",
            "cannot remove the stale " + pidFile + " (" + e.getMessage() + ")",
            "remove it by hand; no server of this data dir is running",
            e);
      }
      return Found.STALE_PID_FILE;
    }
    ProcessHandle p = server.get();
    log.warn(
        "PostgreSQL (pid {}, port {}) is still running on {} after an earlier 'anneal serve' ended"
            + " without stopping it; stopping it",
        p.pid(),
        lines.size() > 3 ? lines.get(3).trim() : "?",
        pgData);
    // SIGTERM: a smart shutdown; its clients died with the JVM that opened them
    p.destroy();
    if (!exited(p, gracefulMillis)) {
      log.warn("PostgreSQL pid {} did not stop in {} ms; killing it", p.pid(), gracefulMillis);
      p.destroyForcibly();
      if (!exited(p, 10_000)) {
        throw new StartupException(
            "PostgreSQL",
            "the server an earlier 'anneal serve' left running (pid " + p.pid() + ") does not stop",
            "stop it by hand ('kill " + p.pid() + "') and start again",
            null);
      }
    }
    return Found.STOPPED;
  }

  /** The live postmaster the pid file names, if it is a PostgreSQL serving this very data dir. */
  private static Optional<ProcessHandle> serverOf(List<String> lines, Path pgData) {
    if (lines.size() < 2) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    Optional<ProcessHandle> p = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    boolean ours =
        samePath(Path.of(lines.get(1).trim()), pgData)
            && p.flatMap(h -> h.info().command())
                .map(c -> Path.of(c).getFileName().toString().equals("postgres"))
                .orElse(false);
    return ours ? p : Optional.empty();
  }

  private static boolean samePath(Path a, Path b) {
    try {
      return Files.isSameFile(a, b);
    } catch (IOException e) {
      return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }
  }

  private static boolean exited(ProcessHandle p, long millis) {
    try {
      p.onExit().get(millis, TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return !p.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !p.isAlive();
    } catch (java.util.concurrent.ExecutionException e) {
      return !p.isAlive();
    }
  }
}
