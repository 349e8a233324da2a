package dev.anneal.runner.exec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * The reference distributed engine ({@code gpu-runner/torch}, Python on PyTorch distributed), which
 * the runner jar carries as resources: {@code anneal-runner exec --engine torch} unpacks it into
 * the work directory and runs it with the machine's Python, so a runner image that has Python and
 * PyTorch needs nothing else. {@code ANNEAL_PYTHON} names the interpreter; without it, Debian's
 * {@code /usr/bin/python3} where it exists, else {@code python3} on the path.
 */
public final class ReferenceEngine {
  private ReferenceEngine() {}

  /** The engine's files, as the jar carries them (a test checks the list against the sources). */
  public static final List<String> FILES =
      List.of("__init__.py", "data.py", "hf.py", "model.py", "safetensors.py", "train.py");

  /** The environment variable that names the Python interpreter. */
  public static final String PYTHON_ENV = "ANNEAL_PYTHON";

  private static final String RESOURCES = "anneal_torch/";

  /** A program to run: its arguments and what it adds to the environment. */
  public record Program(List<String> command, Map<String, String> env) {}

  /** Unpacks the engine under {@code dir/anneal_torch/}; returns how to run it. */
  public static Program install(Path dir) throws IOException {
    Path pkg = Files.createDirectories(dir.resolve("anneal_torch"));
    for (String f : FILES) {
      try (InputStream in = ReferenceEngine.class.getResourceAsStream(RESOURCES + f)) {
        if (in == null) {
          throw new IOException(
              "the runner jar does not carry the reference engine's "
                  + f
                  + " (built without gpu-runner/torch?)");
        }
        Files.copy(in, pkg.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return new Program(
        List.of(python(), "-m", "anneal_torch.train"),
        Map.of("PYTHONPATH", dir.toAbsolutePath().toString(), "PYTHONDONTWRITEBYTECODE", "1"));
  }

  /**
   * The interpreter: {@code ANNEAL_PYTHON}, else /usr/bin/python3 where it exists, else python3.
   */
  public static String python() {
    String given = System.getenv(PYTHON_ENV);
    if (given != null && !given.isBlank()) return given;
    Path debian = Path.of("/usr/bin/python3");
    return Files.isExecutable(debian) ? debian.toString() : "python3";
  }
}
