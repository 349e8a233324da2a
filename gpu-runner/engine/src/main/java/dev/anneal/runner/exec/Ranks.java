package dev.anneal.runner.exec;

import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ObjectStoreTarget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The ranks of one engine program on this node, started as torchrun would start them (RANK,
 * WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), each under {@code setpriv
 * --pdeathsig KILL} where util-linux has it, so that no rank outlives the wrapper even when the
 * wrapper is SIGKILLed. One rank ending badly ends the group.
 */
final class Ranks implements RankGroup {

  static final Path SETPRIV = Path.of("/usr/bin/setpriv");

  /**
   * What the wrapper's environment holds that a rank never gets: the object store's keys and the
   * attempt's event token (the wrapper does every upload and report itself).
   */
  static final Set<String> SECRETS =
      Set.of(
          ObjectStoreTarget.ACCESS_KEY_ENV,
          ObjectStoreTarget.SECRET_KEY_ENV,
          EventSink.TOKEN_ENV,
          "AWS_ACCESS_KEY_ID",
          "AWS_SECRET_ACCESS_KEY",
          "AWS_SESSION_TOKEN");

  private final List<Process> processes = new ArrayList<>();

  /** The first rank to end with a code other than 0, by time: the cause, not its echo. */
  private final AtomicReference<Failure> first = new AtomicReference<>();

  /** The global rank of this node's first rank. */
  private int base;

  /**
   * Starts this node's {@code n} ranks of {@code command} in {@code dir}, their output into {@code
   * logs}: global ranks {@code nodeRank × n …}, of {@code nodes × n}.
   */
  static Ranks start(
      List<String> command,
      int n,
      ExecRun.Rendezvous rv,
      Path dir,
      Map<String, String> env,
      Path logs)
      throws IOException {
    Ranks r = new Ranks();
    r.base = rv.nodeRank() * n;
    Files.createDirectories(logs);
    try {
      for (int local = 0; local < n; local++) {
        int rank = rv.nodeRank() * n + local;
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETPRIV))
          cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        // the platform's credentials stay with the wrapper: the ranks read and write files only
        pb.environment().keySet().removeAll(SECRETS);
        pb.environment().putAll(env);
        pb.environment().putAll(RankGroup.rendezvous(local, n, rv));
        pb.redirectErrorStream(true);
        pb.redirectOutput(logs.resolve("rank-" + local + ".log").toFile());
        Process p = pb.start();
        int number = rank;
        p.onExit()
            .thenAccept(
                done -> {
                  if (done.exitValue() != 0) {
                    r.first.compareAndSet(null, new Failure(number, done.exitValue()));
                  }
                });
        r.processes.add(p);
      }
    } catch (IOException e) {
      r.close();
      throw e;
    }
    return r;
  }

  @Override
  public boolean ended() {
    return processes.stream().noneMatch(Process::isAlive);
  }

  /** The first rank, in time, that ended with a code other than 0, if any has. */
  @Override
  public Optional<Failure> firstFailure() {
    Failure f = first.get();
    if (f != null) return Optional.of(f);
    for (int i = 0; i < processes.size(); i++) {
      Process p = processes.get(i);
      if (!p.isAlive() && p.exitValue() != 0) {
        return Optional.of(new Failure(base + i, p.exitValue()));
      }
    }
    return Optional.empty();
  }

  /** SIGTERM to every rank, then SIGKILL to those still there after {@code graceMillis}. */
  @Override
  public void stop(long graceMillis) {
    for (Process p : processes) p.destroy();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
    for (Process p : processes) {
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        if (!p.waitFor(left, TimeUnit.NANOSECONDS)) p.destroyForcibly().waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }

  /** SIGKILL to every rank, waiting until they are gone. */
  @Override
  public void kill() {
    for (Process p : processes) p.destroyForcibly();
    for (Process p : processes) {
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    for (Process p : processes) p.destroyForcibly();
  }
}
