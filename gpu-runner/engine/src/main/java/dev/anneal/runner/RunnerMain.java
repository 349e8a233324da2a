package dev.anneal.runner;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ProtocolException;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Entry point of the runner process inside a GPU pod or a local child JVM. It only parses
 * arguments; the work is done by plain classes with a {@code run} method, which tests call.
 */
public final class RunnerMain {

  private RunnerMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command and returns the process exit status (see {@link ExitCode}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
      out.println(usage());
      return args.length == 0 ? ExitCode.INVALID_SPEC.code() : ExitCode.SUCCESS.code();
    }
    switch (args[0]) {
      case "check-spec":
        if (args.length != 2) {
          err.println("anneal-runner: check-spec takes one argument, the path of a spec.json");
          return ExitCode.INVALID_SPEC.code();
        }
        return checkSpec(Path.of(args[1]), out, err);
      case "doctor":
        return doctor(out, err);
      default:
        err.println("anneal-runner: unknown command '" + args[0] + "'\n" + usage());
        return ExitCode.INVALID_SPEC.code();
    }
  }

  static String usage() {
    return String.join(
        "\n",
        "usage: anneal-runner <command>",
        "  check-spec FILE   validate a RunSpec and print what it asks for",
        "  doctor            load PyTorch through DJL, run a matrix product, report the device",
        "  help              this text");
  }

  private static int checkSpec(Path file, PrintStream out, PrintStream err) {
    String json;
    try {
      json = Files.readString(file);
    } catch (NoSuchFileException e) {
      err.println("anneal-runner: spec file " + file + " does not exist");
      return ExitCode.INPUT_MISSING.code();
    } catch (IOException e) {
      err.println("anneal-runner: cannot read spec file " + file + ": " + e.getMessage());
      return ExitCode.INPUT_MISSING.code();
    }
    try {
      RunSpec spec = ProtocolJson.readSpec(json);
      out.println(SpecSummary.describe(spec));
      return ExitCode.SUCCESS.code();
    } catch (ProtocolException e) {
      err.println("anneal-runner: invalid spec " + file + ": " + e.getMessage());
      return ExitCode.INVALID_SPEC.code();
    }
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
