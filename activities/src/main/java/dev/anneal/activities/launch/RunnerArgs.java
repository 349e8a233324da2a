package dev.anneal.activities.launch;

import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.EngineSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The runner jar's arguments for an attempt, the same for a child process and a pod: the built-in
 * engine reads its RunSpec ({@code --spec URI}); the torch engine's ranks run under the wrapper
 * ({@code exec --spec URI --ranks N --engine torch}), in the job's working directory.
 */
final class RunnerArgs {
  private RunnerArgs() {}

  /**
   * @param master the rendezvous master's HOST:PORT of a stage on several nodes (null: the launcher
   *     runs on one machine, and refuses such a stage)
   * @param sidecarWork the volume a command engine's container shares with the wrapper's (null: the
   *     wrapper starts the ranks itself)
   */
  static List<String> of(LaunchRequest r, String master, String sidecarWork) {
    EngineSpec e = r.engine();
    return switch (e.kind()) {
      case BUILTIN -> List.of("--spec", r.specUri());
      case TORCH, COMMAND -> {
        List<String> args = new ArrayList<>();
        args.addAll(
            List.of("exec", "--spec", r.specUri(), "--ranks", "" + e.ranksFor(r.resources())));
        if (e.nodes() > 1) {
          if (master == null) {
            throw new IllegalArgumentException(
                "engine.nodes: the local launcher runs on this one machine, and this stage asks"
                    + " for "
                    + e.nodes()
                    + " nodes; run it on Kubernetes (anneal.launcher=kubernetes), or on one"
                    + " machine with engine.ranks");
          }
          // each pod's node rank is its Job index (JOB_COMPLETION_INDEX)
          args.addAll(List.of("--nodes", "" + e.nodes(), "--master", master));
        }
        if (sidecarWork != null) {
          args.addAll(List.of("--sidecar", "--work", sidecarWork + "/exec"));
        }
        if (e.kind() == EngineSpec.Kind.TORCH) {
          args.addAll(List.of("--engine", "torch"));
        } else {
          args.add("--");
          args.addAll(e.command());
        }
        yield args;
      }
    };
  }
}
