package dev.anneal.runner.exec;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The ranks of one engine program on this node, however they are started: as the wrapper's own
 * child processes ({@link Ranks}), or by an engine container of their own beside it ({@link
 * SidecarRanks}). One rank ending badly ends the group.
 */
interface RankGroup extends AutoCloseable {

  /** A rank that ended badly: its global rank and exit status (128 + N: killed by signal N). */
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

  /** Whether every rank has ended. */
  boolean ended();

  /** The first rank, in time, that ended with a code other than 0, if any has. */
  Optional<Failure> firstFailure();

  /** SIGTERM to every rank, then SIGKILL to those still there after {@code graceMillis}. */
  void stop(long graceMillis);

  /** SIGKILL to every rank, waiting until they are gone. */
  void kill();

  @Override
  void close();

  /** The rendezvous of local rank {@code local} of {@code n}, exactly as torchrun sets it. */
  static Map<String, String> rendezvous(int local, int n, ExecRun.Rendezvous rv) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("RANK", Integer.toString(rv.nodeRank() * n + local));
    env.put("LOCAL_RANK", Integer.toString(local));
    env.put("WORLD_SIZE", Integer.toString(rv.nodes() * n));
    env.put("LOCAL_WORLD_SIZE", Integer.toString(n));
    env.put("GROUP_RANK", Integer.toString(rv.nodeRank()));
    env.put("MASTER_ADDR", rv.host());
    env.put("MASTER_PORT", Integer.toString(rv.port()));
    return env;
  }
}
