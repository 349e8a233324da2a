package dev.anneal.activities.launch;

import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.EngineSpec;
import java.util.List;

/**
 * The runner jar's arguments for an attempt, the same for a child process and a pod: the built-in
 * engine reads its RunSpec ({@code --spec URI}); the torch engine's ranks run under the wrapper
 * ({@code exec --spec URI --ranks N --engine torch}), in the job's working directory.
 */
final class RunnerArgs {
  private RunnerArgs() {}

  static List<String> of(LaunchRequest r) {
    EngineSpec e = r.engine();
    return switch (e.kind()) {
      case BUILTIN -> List.of("--spec", r.specUri());
      case TORCH ->
          List.of(
              "exec",
              "--spec",
              r.specUri(),
              "--ranks",
              Integer.toString(e.ranksFor(r.resources())),
              "--engine",
              "torch");
    };
  }
}
