package dev.anneal.platform.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code anneal serve} in a JVM of its own, on fixed ports and one data dir, so the chaos benchmark
 * can kill it (SIGKILL: a crash) or stop it (SIGTERM to the JVM alone: its workers stop, its
 * runners go on) and start it again where it was. Each start logs to a file of its own.
 */
final class ServeProcess {

  private final Path dataDir;
  private final Path logs;
  private final List<String> args;
  private Process process;
  private int starts;

  ServeProcess(Path dataDir, Path logs, List<String> serveArgs) {
    this.dataDir = dataDir;
    this.logs = logs;
    this.args = List.copyOf(serveArgs);
  }

  /** The command that runs the CLI: this JVM's own jar, or its class path in a build. */
  private static List<String> cli() {
    String bin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("java.class.path");
    List<String> cmd = new ArrayList<>(List.of(bin, "-Xmx1g"));
    if (cp.endsWith(".jar") && !cp.contains(java.io.File.pathSeparator)) {
      cmd.addAll(List.of("-jar", cp));
    } else {
      cmd.addAll(List.of("-cp", cp, "dev.anneal.platform.cli.AnnealCli"));
    }
    return cmd;
  }

  /** Starts it and waits until its API answers (the bootstrap token is written before). */
  void start(String apiUrl, Duration within) throws IOException, InterruptedException {
    starts++;
    Path log = logs.resolve("serve-" + starts + ".log");
    List<String> cmd = cli();
    cmd.add("serve");
    cmd.addAll(args);
    process =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + within.toNanos();
    while (!Http.healthy(apiUrl)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "anneal serve exited with " + process.exitValue() + " at start; see " + log);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "anneal serve did not answer in " + within + "; see " + log);
      }
      Thread.sleep(100);
    }
  }

  /** A crash: SIGKILL, no shutdown hook runs. */
  void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  /** A clean stop of the platform's JVM alone (its runners are not signalled). */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  String bootstrapToken() throws IOException {
    return Files.readString(dataDir.resolve("bootstrap-token")).trim();
  }

  int starts() {
    return starts;
  }
}
