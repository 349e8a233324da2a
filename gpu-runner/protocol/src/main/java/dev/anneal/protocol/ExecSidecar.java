package dev.anneal.protocol;

import java.util.List;

/**
 * How a team's program, in an engine container of its own, meets the wrapper in the runner's
 * container: through {@code <work>/ranks/} on the volume they share. The wrapper touches {@code
 * heartbeat} every second from its start, writes {@code launch.sh} (this node's ranks) and then
 * {@code go}, and {@code abandon} when it ends without starting them; the engine container runs
 * {@link #entrypoint}: it waits for {@code go} and runs the script, and gives up when the wrapper
 * abandons it, its heartbeat stops for {@link #STALE_SECONDS}, or no wrapper appears in ten
 * minutes.
 */
public final class ExecSidecar {
  private ExecSidecar() {}

  /** How long the heartbeat may go untouched before the engine side takes the wrapper for dead. */
  public static final int STALE_SECONDS = 10;

  /** The directory of the protocol's files under the wrapper's work directory. */
  public static String dir(String work) {
    return work + "/ranks";
  }

  /** The engine container's command (POSIX sh, date and stat). */
  public static List<String> entrypoint(String work) {
    String d = dir(work).replace("'", "'\\''");
    return List.of(
        "sh",
        "-c",
        "d='"
            + d
            + "'; t=0; until [ -f \"$d/go\" ]; do"
            + " [ -f \"$d/abandon\" ] && exit 0;"
            + " if [ -f \"$d/heartbeat\" ]; then"
            + " [ $(( $(date +%s) - $(stat -c %Y \"$d/heartbeat\") )) -gt "
            + STALE_SECONDS
            + " ] && exit 1;"
            + " else t=$((t+1)); [ $t -gt 3000 ] && exit 1; fi;"
            + " sleep 0.2; done; exec sh \"$d/launch.sh\"");
  }
}
