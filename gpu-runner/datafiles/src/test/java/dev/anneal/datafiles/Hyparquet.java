package dev.anneal.datafiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Writes Parquet files with an independent writer, npm's hyparquet-writer, for tests: a JSONL
 * dataset converted by {@code jsonl2parquet.mjs}, which {@code src/test/parquet/setup.sh} installs
 * into the module's {@code target/hyparquet} at {@code generate-test-resources}.
 */
public final class Hyparquet {
  private static final Path DIR = Path.of("target", "hyparquet");

  private Hyparquet() {}

  /**
   * Writes {@code jsonl}'s records to {@code parquet}; {@code options} as the script takes them.
   */
  public static Path write(Path jsonl, Path parquet, String... options) throws IOException {
    Path script = DIR.resolve("jsonl2parquet.mjs").toAbsolutePath();
    if (!Files.exists(script)) {
      throw new IllegalStateException(
          script + " is missing: the build's generate-test-resources phase installs it");
    }
    List<String> cmd =
        new ArrayList<>(List.of("node", script.toString(), jsonl.toString(), parquet.toString()));
    cmd.addAll(List.of(options));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("jsonl2parquet.mjs did not finish in 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.exitValue() != 0) throw new IOException("jsonl2parquet.mjs failed: " + out);
    return parquet;
  }

  /** Writes JSONL lines to {@code dir/name.jsonl} and converts them to {@code dir/name.parquet}. */
  public static Path write(Path dir, String name, List<String> lines, String... options)
      throws IOException {
    Path jsonl = Files.write(dir.resolve(name + ".jsonl"), lines, StandardCharsets.UTF_8);
    return write(jsonl, dir.resolve(name + ".parquet"), options);
  }
}
