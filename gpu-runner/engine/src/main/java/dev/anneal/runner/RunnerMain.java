package dev.anneal.runner;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.bench.DataBench;
import dev.anneal.runner.bench.DataScaleBench;
import dev.anneal.runner.bench.EngineBench;
import dev.anneal.runner.bench.GenerationBench;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Entry point of the runner process inside a GPU pod or a local child JVM. It only parses
 * arguments; the work is done by plain classes with a {@code run} method, which tests call.
 */
public final class RunnerMain {

  private RunnerMain() {}

  public static void main(String[] args) {
    AtomicReference<Runnable> trainer = new AtomicReference<>();
    AtomicBoolean stopping = new AtomicBoolean();
    AtomicInteger exit = new AtomicInteger(ExitCode.PREEMPTED.code());
    CountDownLatch done = new CountDownLatch(1);
    // SIGTERM (pod preemption, Ctrl-C): commit a checkpoint, then exit with PREEMPTED
    Thread hook =
        new Thread(
            () -> {
              if (done.getCount() == 0) return;
              stopping.set(true);
              Runnable stop = trainer.get();
              if (stop != null) {
                stop.run();
                try {
                  done.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                Runtime.getRuntime().halt(exit.get());
              }
            },
            "sigterm-checkpoint");
    Runtime.getRuntime().addShutdownHook(hook);
    int code = run(args, System.out, System.err, trainer);
    exit.set(code);
    done.countDown();
    if (!stopping.get()) {
      System.exit(code);
    }
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, new AtomicReference<>());
  }

  /** Runs one command and returns the process exit status (see {@link ExitCode}). */
  static int run(
      String[] args, PrintStream out, PrintStream err, AtomicReference<Runnable> trainer) {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
      out.println(usage());
      return args.length == 0 ? ExitCode.INVALID_SPEC.code() : ExitCode.SUCCESS.code();
    }
    try {
      switch (args[0]) {
        case "--spec":
          return runSpec(args, 0, out, err, trainer);
        case "run":
          return runSpec(args, 1, out, err, trainer);
        case "exec":
          return ExecCommand.run(args, out, err, trainer);
        case "train":
          return LocalCommands.train(
              new Args(
                  args,
                  1,
                  Set.of(
                      "preset",
                      "steps",
                      "data",
                      "out",
                      "precision",
                      "lr",
                      "batch",
                      "seq",
                      "optimizer",
                      "resume",
                      "spike-at",
                      "nan-at",
                      "crash-at",
                      "every",
                      "seed",
                      "grad-accum",
                      "attention"),
                  Set.of("synthetic")),
              out,
              trainer);
        case "synth":
          return LocalCommands.synth(
              new Args(args, 1, Set.of("out", "docs", "seed"), Set.of()), out);
        case "check-spec":
          if (args.length != 2) {
            err.println("anneal-runner: check-spec takes one argument, the path of a spec.json");
            return ExitCode.INVALID_SPEC.code();
          }
          return checkSpec(Path.of(args[1]), out, err);
        case "doctor":
          return doctor(out, err);
        case "bench":
          return EngineBench.run(
              new Args(
                      args,
                      1,
                      Set.of("steps", "presets", "precisions", "json", "seq", "batch"),
                      Set.of("quick"))
                  .asBenchOptions(),
              out);
        case "bench-data":
          {
            Args a =
                new Args(
                    args,
                    1,
                    Set.of(
                        "docs",
                        "repeats",
                        "hub",
                        "train-vocab",
                        "scale",
                        "heap",
                        "dir",
                        "steps",
                        "files",
                        "hyparquet"),
                    Set.of());
            if (a.has("scale")) {
              return DataScaleBench.run(
                  new DataScaleBench.Options(
                      java.util.Arrays.stream(a.get("scale", null).split(","))
                          .map(DataScaleBench::size)
                          .toList(),
                      a.getInt("heap", 256),
                      Path.of(a.get("dir", "target/bench-data")),
                      a.getInt("steps", 50),
                      List.of(a.get("files", "jsonl").split(",")),
                      Path.of(a.get("hyparquet", "gpu-runner/engine/target/hyparquet"))),
                  out);
            }
            return DataBench.run(
                new DataBench.Options(
                    a.getInt("docs", 20000),
                    a.getInt("repeats", 3),
                    a.has("hub") ? Path.of(a.get("hub", null)) : null,
                    a.getInt("train-vocab", 4000)),
                out);
          }
        case "bench-generate":
          {
            Args a = new Args(args, 1, Set.of("presets", "batch", "prompt", "new"), Set.of());
            return GenerationBench.run(
                new GenerationBench.Options(
                    List.of(a.get("presets", "tiny,small").split(",")),
                    Integer.parseInt(a.get("batch", "8")),
                    Integer.parseInt(a.get("prompt", "16")),
                    List.of(a.get("new", "64,256").split(",")).stream()
                        .map(Integer::parseInt)
                        .toList()),
                out);
          }
        default:
          err.println("anneal-runner: unknown command '" + args[0] + "'\n" + usage());
          return ExitCode.INVALID_SPEC.code();
      }
    } catch (IllegalArgumentException e) {
      err.println("anneal-runner: " + e.getMessage());
      return ExitCode.INVALID_SPEC.code();
    }
  }

  static String usage() {
    return String.join(
        "\n",
        "usage: anneal-runner <command>",
        "  --spec FILE|s3://BUCKET/KEY   run the stage attempt a RunSpec describes (same as: run --spec …)",
        "  train [--preset tiny] [--steps 300] [--synthetic | --data a.jsonl,b.jsonl] [--out DIR]",
        "        [--precision fp32|fp16-mixed] [--optimizer adamw|adafactor] [--lr X] [--batch N] [--seq N]",
        "        [--grad-accum N] [--attention causal|prefix] [--every N] [--resume MANIFEST]",
        "        [--spike-at STEP] [--nan-at STEP] [--crash-at STEP]",
        "                    pre-train locally; events as JSON lines on stdout, checkpoints under --out",
        "  synth --out DIR [--docs N] [--seed S]   write the synthetic corpus as JSONL, a file a source",
        "  bench [--quick] [--presets tiny,small] [--precisions fp32,fp16-mixed] [--steps N] [--json FILE]",
        "                    training throughput, MFU against the measured matmul peak, checkpoint stall",
        "  bench-generate [--presets tiny,small] [--batch 8] [--prompt 16] [--new 64,256]",
        "  bench-data [--docs 20000] [--repeats 3] [--hub DIR] [--train-vocab 4000]",
        "  bench-data --scale 100M,5G [--heap 256] [--dir DIR] [--steps 50]",
        "                    generation tokens/s with the KV cache against full recomputation",
        "  " + ExecCommand.USAGE,
        "                    run an engine program that speaks the engine contract as the attempt:",
        "                    the reference engine the jar carries, or any command",
        "  check-spec FILE   validate a RunSpec and print what it asks for",
        "  doctor            load PyTorch through DJL, run a matrix product, report the device",
        "  help              this text");
  }

  private static int runSpec(
      String[] args,
      int from,
      PrintStream out,
      PrintStream err,
      AtomicReference<Runnable> trainer) {
    Args a = new Args(args, from, Set.of("spec"), Set.of());
    RunSpecFiles.Loaded loaded = RunSpecFiles.required(a, err);
    if (loaded.spec() == null) {
      return loaded.exit();
    }
    RunSpec spec = loaded.spec();
    return AttemptEvents.run(
        spec,
        out,
        err,
        events -> StageRunner.run(spec, StageRunner.store(spec.store()), events, trainer));
  }

  private static int checkSpec(Path file, PrintStream out, PrintStream err) {
    RunSpecFiles.Loaded loaded = RunSpecFiles.load(file.toString(), err);
    if (loaded.spec() == null) {
      return loaded.exit();
    }
    out.println(SpecSummary.describe(loaded.spec()));
    return ExitCode.SUCCESS.code();
  }

  private static int doctor(PrintStream out, PrintStream err) {
    try {
      DeviceReport report = DeviceReport.probe();
      out.println(report.describe());
      return report.matmulCorrect() ? ExitCode.SUCCESS.code() : ExitCode.CRASH.code();
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      err.println("anneal-runner: PyTorch could not be loaded through DJL: " + e);
      return ExitCode.CRASH.code();
    }
  }
}
