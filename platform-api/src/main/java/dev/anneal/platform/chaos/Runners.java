package dev.anneal.platform.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The local runners of the embedded stack as their job folders ({@code <data>/jobs/<job>}) and the
 * process table tell them: which one is training now, and how many runner JVMs are alive.
 */
final class Runners {

  private final Path jobs;

  Runners(Path dataDir) {
    this.jobs = dataDir.resolve("jobs");
  }

  /** The folder of a runner that is alive now (the newest, if a second one ever appeared). */
  Optional<Path> live() {
    return folders().stream()
        .filter(d -> pid(d).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false))
        .filter(d -> !Files.exists(d.resolve("exit_code")))
        .max(Comparator.comparing(Runners::modified));
  }

  /** The runner's process, if it is alive. */
  Optional<ProcessHandle> process(Path job) {
    return pid(job).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
  }

  /**
   * Runner JVMs alive now: Java processes working in a job folder (the watcher shell that waits for
   * each is not one).
   */
  long aliveJvms() {
    return folders().stream()
        .map(this::process)
        .flatMap(Optional::stream)
        .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
        .count();
  }

  List<Path> folders() {
    if (!Files.isDirectory(jobs)) return List.of();
    try (Stream<Path> s = Files.list(jobs)) {
      return s.filter(Files::isDirectory).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static Optional<Long> pid(Path job) {
    try {
      return Optional.of(Long.parseLong(Files.readString(job.resolve("pid")).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p.resolve("pid")).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }
}
