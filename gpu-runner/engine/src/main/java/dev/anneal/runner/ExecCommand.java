package dev.anneal.runner;

import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.exec.ExecRun;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** The {@code exec} command's arguments: an engine program run as the attempt ({@link ExecRun}). */
final class ExecCommand {
  private ExecCommand() {}

  /** {@code exec --spec S [--ranks N] [--tokens DIR] [--work DIR] -- COMMAND…}. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    int dash = java.util.Arrays.asList(args).indexOf("--");
    if (dash < 0 || dash == args.length - 1) {
      throw new IllegalArgumentException("exec: the engine's command goes after --");
    }
    Args a =
        new Args(
            java.util.Arrays.copyOf(args, dash),
            1,
            Set.of("spec", "ranks", "tokens", "work", "stall-seconds"),
            Set.of());
    RunSpecFiles.Loaded loaded = RunSpecFiles.required(a, err);
    if (loaded.spec() == null) {
      return loaded.exit();
    }
    RunSpec spec = loaded.spec();
    ExecRun.Options o =
        new ExecRun.Options(
            List.of(java.util.Arrays.copyOfRange(args, dash + 1, args.length)),
            a.getInt("ranks", 1),
            Path.of(a.get("work", "exec")).toAbsolutePath(),
            a.has("tokens") ? Path.of(a.get("tokens", null)).toAbsolutePath() : null,
            100,
            30_000,
            1000L * a.getInt("stall-seconds", 900));
    return AttemptEvents.run(
        spec,
        out,
        err,
        events -> {
          try {
            return ExecRun.run(spec, StageRunner.store(spec.store()), events, o);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }
}
