package dev.anneal.runner.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The ranks of one engine program on this node, started as torchrun would start them (RANK,
 * WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), each under {@code setpriv
 * --pdeathsig KILL} where util-linux has it, so that no rank outlives the wrapper even when the
 * wrapper is SIGKILLed. One rank ending badly ends the group.
 */
final class Ranks implements AutoCloseable {

  static final Path SETPRIV = Path.of("/usr/bin/setpriv");

  private final List<Process> processes = new ArrayList<>();

  /** The first rank to end with a code other than 0, by time: the cause, not its echo. */
  private final AtomicReference<Failure> first = new AtomicReference<>();

  /** A rank that ended badly: its number and exit status (128 + N: killed by signal N). */
  record Failure(int rank, int exit) {
    /** What happened, for a person: "rank 1 was killed by signal 9 (SIGKILL)". */
    String describe() {
      if (exit > 128 && exit < 128 + 65) {
        int sig = exit - 128;
        return "rank " + rank + " was killed by signal " + sig + signalName(sig);
      }
      return "rank " + rank + " exited with " + exit;
    }

    private static String signalName(int sig) {
      return switch (sig) {
        case 9 -> " (SIGKILL: the kernel's OOM killer, or a person)";
        case 15 -> " (SIGTERM)";
        case 11 -> " (SIGSEGV)";
        case 6 -> " (SIGABRT)";
        default -> "";
      };
    }
  }

  /** Starts {@code n} ranks of {@code command} in {@code dir}, their output into {@code logs}. */
  static Ranks start(
      List<String> command, int n, int port, Path dir, Map<String, String> env, Path logs)
      throws IOException {
    Ranks r = new Ranks();
    Files.createDirectories(logs);
    try {
      for (int rank = 0; rank < n; rank++) {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETPRIV))
          cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().putAll(env);
        pb.environment().put("RANK", Integer.toString(rank));
        pb.environment().put("LOCAL_RANK", Integer.toString(rank));
        pb.environment().put("WORLD_SIZE", Integer.toString(n));
        pb.environment().put("LOCAL_WORLD_SIZE", Integer.toString(n));
        pb.environment().put("MASTER_ADDR", "127.0.0.1");
        pb.environment().put("MASTER_PORT", Integer.toString(port));
        pb.redirectErrorStream(true);
        pb.redirectOutput(logs.resolve("rank-" + rank + ".log").toFile());
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

  /** Whether every rank has ended. */
  boolean ended() {
    return processes.stream().noneMatch(Process::isAlive);
  }

  /** The first rank, in time, that ended with a code other than 0, if any has. */
  Optional<Failure> firstFailure() {
    Failure f = first.get();
    if (f != null) return Optional.of(f);
    for (int i = 0; i < processes.size(); i++) {
      Process p = processes.get(i);
      if (!p.isAlive() && p.exitValue() != 0) return Optional.of(new Failure(i, p.exitValue()));
    }
    return Optional.empty();
  }

  /** SIGTERM to every rank, then SIGKILL to those still there after {@code graceMillis}. */
  void stop(long graceMillis) {
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
  void kill() {
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
