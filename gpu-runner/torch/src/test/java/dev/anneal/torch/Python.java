package dev.anneal.torch;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Python 3 with its {@code python3-torch} (the {@code python3} on PATH may be a pyenv shim
 * that does not see Debian's packages), running this module's {@code anneal_torch}. Tests that need
 * it are skipped, saying so, where it is not installed; {@code .ci/run} installs it.
 */
final class Python {

  static final Path EXECUTABLE = Path.of("/usr/bin/python3");

  /** This module's directory: {@code anneal_torch/} and {@code tests/} are there. */
  static final Path MODULE = Path.of("").toAbsolutePath();

  private static Boolean torch;

  private Python() {}

  /** Skips the calling test, with the install line, when Debian's PyTorch is not here. */
  static void assumeTorch() {
    if (torch == null) {
      try {
        torch = Files.isExecutable(EXECUTABLE) && run(60, "-c", "import torch").code() == 0;
      } catch (IOException e) {
        torch = false;
      }
    }
    assumeTrue(
        torch,
        "no PyTorch for "
            + EXECUTABLE
            + " (apt-get install python3-torch libopenblas0-pthread; .ci/run does)");
  }

  record Result(int code, String output) {}

  /** Runs {@code python3 args…} in this module's directory; output is stdout and stderr. */
  static Result run(long timeoutSeconds, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(EXECUTABLE.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd).directory(MODULE.toFile()).redirectErrorStream(true);
    pb.environment().put("PYTHONPATH", MODULE.toString());
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    Process p = pb.start();
    try {
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(
            "python3 " + String.join(" ", args) + ": still running after " + timeoutSeconds + " s");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException(e);
    }
  }

  /** The runner jar the engine module's package phase builds; skips the calling test without it. */
  static Path runnerJar() {
    assumeTorch();
    Path jar = Path.of("../engine/target/anneal-runner.jar").toAbsolutePath().normalize();
    assumeTrue(Files.exists(jar), "the runner jar is built by the engine module's package phase");
    return jar;
  }

  /** A process's working directory, or "" when it is gone. */
  static String cwd(ProcessHandle p) {
    try {
      return Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/cwd")).toString();
    } catch (IOException e) {
      return "";
    }
  }

  /** {@code java -jar JAR exec --spec SPEC --work WORK ARGS…}, the wrapper as a pod starts it. */
  static ProcessBuilder exec(Path jar, Path spec, String work, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of("java", "-jar", jar.toString(), "exec", "--spec", spec.toString(), "--work", work));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd);
  }
}
