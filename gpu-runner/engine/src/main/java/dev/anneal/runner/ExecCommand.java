package dev.anneal.runner;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.exec.ExecRun;
import dev.anneal.runner.exec.ReferenceEngine;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code exec} command's arguments: an engine program run as the attempt ({@link ExecRun}),
 * either the reference engine the jar carries ({@code --engine torch}) or any command after {@code
 * --}.
 */
final class ExecCommand {
  private ExecCommand() {}

  static final String USAGE =
      "exec --spec FILE [--ranks N] [--nodes M --node-rank R --master HOST:PORT] [--tokens DIR]"
          + " [--work DIR] [--stall-seconds S] [--sidecar] (--engine torch | -- COMMAND…)";

  /** Where a Kubernetes Indexed Job puts a pod's index: the node rank, unless given. */
  static final String JOB_INDEX_ENV = "JOB_COMPLETION_INDEX";

  static int run(
      String[] args, PrintStream out, PrintStream err, AtomicReference<Runnable> stopper) {
    int dash = Arrays.asList(args).indexOf("--");
    String[] own = dash < 0 ? args : Arrays.copyOf(args, dash);
    Args a =
        new Args(
            own,
            1,
            Set.of(
                "spec",
                "ranks",
                "tokens",
                "work",
                "stall-seconds",
                "engine",
                "nodes",
                "node-rank",
                "master"),
            Set.of("sidecar"));
    boolean command = dash >= 0 && dash < args.length - 1;
    if (command == a.has("engine")) {
      err.println("anneal-runner: " + USAGE + ": give --engine torch or a command after --");
      return ExitCode.INVALID_SPEC.code();
    }
    if (a.has("engine") && !a.get("engine", null).equals("torch")) {
      err.println(
          "anneal-runner: exec --engine: the runner carries the torch engine only, got '"
              + a.get("engine", null)
              + "'");
      return ExitCode.INVALID_SPEC.code();
    }
    RunSpecFiles.Loaded loaded = RunSpecFiles.required(a, err);
    if (loaded.spec() == null) {
      return loaded.exit();
    }
    RunSpec spec = loaded.spec();
    Path work = Path.of(a.get("work", "exec")).toAbsolutePath();
    int ranks = a.getInt("ranks", 1);
    if (ranks < 1) {
      err.println("anneal-runner: exec --ranks: at least 1, got " + ranks);
      return ExitCode.INVALID_SPEC.code();
    }
    ExecRun.Rendezvous rv;
    try {
      rv = rendezvous(a);
    } catch (IllegalArgumentException e) {
      err.println("anneal-runner: exec --" + e.getMessage());
      return ExitCode.INVALID_SPEC.code();
    }
    ReferenceEngine.Program program;
    try {
      program =
          command
              ? new ReferenceEngine.Program(
                  List.of(Arrays.copyOfRange(args, dash + 1, args.length)), Map.of())
              : ReferenceEngine.install(work.resolve("engine"));
    } catch (IOException e) {
      err.println("anneal-runner: exec: " + e.getMessage());
      return ExitCode.INVALID_SPEC.code();
    }
    ExecRun.Options o =
        new ExecRun.Options(
            program.command(),
            ranks,
            rv,
            work,
            a.has("tokens") ? Path.of(a.get("tokens", null)).toAbsolutePath() : null,
            program.env(),
            100,
            30_000,
            1000L * a.getInt("stall-seconds", 900),
            a.has("sidecar"));
    return AttemptEvents.run(
        spec,
        out,
        err,
        events -> {
          try {
            return ExecRun.run(spec, StageRunner.store(spec.store()), events, o, stopper);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        rv.nodeRank() == 0);
  }

  /** One machine, or {@code --nodes M --node-rank R --master HOST:PORT} (R from the Job index). */
  private static ExecRun.Rendezvous rendezvous(Args a) {
    int nodes = a.getInt("nodes", 1);
    if (nodes == 1 && !a.has("master")) return ExecRun.Rendezvous.single();
    String index = System.getenv(JOB_INDEX_ENV);
    int nodeRank =
        a.has("node-rank")
            ? a.getInt("node-rank", 0)
            : index != null ? Integer.parseInt(index.trim()) : 0;
    String master = a.get("master", null);
    if (master == null || !master.matches("[^:]+:[0-9]{1,5}")) {
      throw new IllegalArgumentException(
          "master: a run on " + nodes + " nodes names its master as HOST:PORT, got " + master);
    }
    int colon = master.lastIndexOf(':');
    return new ExecRun.Rendezvous(
        nodes, nodeRank, master.substring(0, colon), Integer.parseInt(master.substring(colon + 1)));
  }
}
