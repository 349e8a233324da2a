package dev.anneal.runner.exec;

import dev.anneal.protocol.ExecSidecar;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Ranks started by an engine container of their own, beside the wrapper's, so that a team's program
 * never runs where the platform's credentials are: the two share only the work directory. The
 * wrapper writes {@code ranks/launch.sh} (this node's ranks, their environment — the contract's and
 * nothing else — and their logs), then {@code ranks/go}; the engine container, waiting for {@code
 * go} ({@link #entrypoint}), runs it. The script records each rank's exit status in {@code
 * ranks/exit-<i>} as it ends, passes SIGTERM on to the ranks (and on a {@code ranks/stop} file),
 * kills them on {@code ranks/kill}, and kills them too when the wrapper's {@code ranks/heartbeat}
 * has not been touched for {@link ExecSidecar#STALE_SECONDS} — the pod-wide stand-in for {@code
 * pdeathsig}. The heartbeat is the wrapper's from its start ({@link #presence}).
 */
final class SidecarRanks implements RankGroup {

  private final Path dir;
  private final int n;
  private final int base;

  private SidecarRanks(Path dir, int n, int base) {
    this.dir = dir;
    this.n = n;
    this.base = base;
  }

  /**
   * The wrapper's presence for the engine container, from its start: a heartbeat every second, and
   * on close the {@code abandon} file (harmless once the ranks have run; the engine container's cue
   * to end when they never will).
   */
  /** The wrapper's presence; closing it never fails. */
  interface Presence extends AutoCloseable {
    @Override
    void close();
  }

  static Presence presence(Path work) throws IOException {
    Path dir = Files.createDirectories(work.resolve("ranks"));
    touch(dir.resolve("heartbeat"));
    Thread beat =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                try {
                  Thread.sleep(1000);
                  touch(dir.resolve("heartbeat"));
                } catch (InterruptedException e) {
                  return;
                } catch (UncheckedIOException e) {
                  // the work volume went away: the engine side will see the heartbeat stop
                }
              }
            },
            "exec-heartbeat");
    beat.setDaemon(true);
    beat.start();
    return () -> {
      beat.interrupt();
      touch(dir.resolve("abandon"));
    };
  }

  /** Writes this node's launch script and the go file; the engine container does the rest. */
  static SidecarRanks start(
      List<String> command,
      int n,
      ExecRun.Rendezvous rv,
      Path work,
      Map<String, String> env,
      Path logs)
      throws IOException {
    Path dir = Files.createDirectories(work.resolve("ranks"));
    Files.createDirectories(logs);
    SidecarRanks r = new SidecarRanks(dir, n, rv.nodeRank() * n);
    Path script = dir.resolve("launch.sh.tmp");
    Files.writeString(script, script(command, n, rv, work, env, logs));
    Files.move(script, dir.resolve("launch.sh"), StandardCopyOption.ATOMIC_MOVE);
    touch(dir.resolve("go"));
    return r;
  }

  /** The launch script: POSIX sh, every value single-quoted. */
  static String script(
      List<String> command,
      int n,
      ExecRun.Rendezvous rv,
      Path work,
      Map<String, String> env,
      Path logs) {
    String d = q(work.resolve("ranks").toString());
    StringBuilder b = new StringBuilder();
    b.append("#!/bin/sh\n# written by anneal-runner exec: this node's ranks, run by the engine");
    b.append(" container\ncd ").append(q(work.toString())).append('\n');
    for (int i = 0; i < n; i++) {
      b.append("(\n");
      for (Map.Entry<String, String> e : env.entrySet()) {
        b.append("  export ").append(e.getKey()).append('=').append(q(e.getValue())).append('\n');
      }
      for (Map.Entry<String, String> e : RankGroup.rendezvous(i, n, rv).entrySet()) {
        b.append("  export ").append(e.getKey()).append('=').append(q(e.getValue())).append('\n');
      }
      b.append("  ");
      for (String c : command) b.append(q(c)).append(' ');
      b.append("> ").append(q(logs.resolve("rank-" + i + ".log").toString())).append(" 2>&1 &\n");
      b.append("  child=$!; echo $child > ").append(d).append("/pid-").append(i).append('\n');
      b.append("  wait $child; code=$?\n");
      b.append("  echo $code > ").append(d).append("/exit-").append(i).append(".tmp && mv ");
      b.append(d).append("/exit-").append(i).append(".tmp ").append(d).append("/exit-");
      b.append(i).append('\n');
      b.append(") &\n");
    }
    b.append("signal() { for f in ").append(d).append("/pid-*; do [ -f \"$f\" ] && kill -$1");
    b.append(" \"$(cat \"$f\")\" 2>/dev/null; done; }\n");
    b.append("trap 'signal TERM' TERM\n");
    b.append("while :; do\n");
    b.append("  done=0; for i in");
    for (int i = 0; i < n; i++) b.append(' ').append(i);
    b.append("; do [ -f ").append(d).append("/exit-$i ] && done=$((done+1)); done\n");
    b.append("  [ $done -eq ").append(n).append(" ] && exit 0\n");
    b.append("  if [ -f ").append(d).append("/kill ] || [ $(( $(date +%s) - $(stat -c %Y ");
    b.append(d).append("/heartbeat) )) -gt ").append(ExecSidecar.STALE_SECONDS).append(" ]; then");
    b.append(" signal KILL; fi\n");
    b.append("  if [ -f ").append(d).append("/stop ]; then rm -f ").append(d);
    b.append("/stop; signal TERM; fi\n");
    b.append("  sleep 0.2\n");
    b.append("done\n");
    return b.toString();
  }

  /** A value for sh: single-quoted, a quote inside closed, escaped and reopened. */
  static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private Optional<Integer> exit(int i) {
    try {
      Path f = dir.resolve("exit-" + i);
      return Files.exists(f)
          ? Optional.of(Integer.parseInt(Files.readString(f).trim()))
          : Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Override
  public boolean ended() {
    for (int i = 0; i < n; i++) if (exit(i).isEmpty()) return false;
    return true;
  }

  @Override
  public Optional<Failure> firstFailure() {
    Failure first = null;
    FileTime when = null;
    for (int i = 0; i < n; i++) {
      Optional<Integer> code = exit(i);
      if (code.isEmpty() || code.get() == 0) continue;
      FileTime t;
      try {
        t = Files.getLastModifiedTime(dir.resolve("exit-" + i));
      } catch (IOException e) {
        continue;
      }
      if (when == null || t.compareTo(when) < 0) {
        when = t;
        first = new Failure(base + i, code.get());
      }
    }
    return Optional.ofNullable(first);
  }

  @Override
  public void stop(long graceMillis) {
    touch(dir.resolve("stop"));
    if (!await(graceMillis)) kill();
  }

  @Override
  public void kill() {
    touch(dir.resolve("kill"));
    await(TimeUnit.SECONDS.toMillis(30));
  }

  private boolean await(long millis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (System.nanoTime() < deadline) {
      if (ended()) return true;
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return ended();
      }
    }
    return ended();
  }

  @Override
  public void close() {
    if (!ended()) touch(dir.resolve("kill"));
  }

  private static void touch(Path f) {
    try {
      if (Files.exists(f)) Files.setLastModifiedTime(f, FileTime.from(Instant.now()));
      else Files.write(f, new byte[0]);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + f, e);
    }
  }
}
