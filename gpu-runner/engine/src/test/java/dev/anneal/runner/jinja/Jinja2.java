package dev.anneal.runner.jinja;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The independent renderer: Debian's python3-jinja2 with transformers' settings ({@code
 * render.py}); a test's cases go to it in one process.
 */
public final class Jinja2 {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A template and the variables it is rendered with. */
  public record Case(String template, Map<String, Object> context) {}

  private Jinja2() {}

  /** Per case, {@code {"out": text}} or {@code {"error": message}}; skips without jinja2. */
  public static List<JsonNode> render(List<Case> cases, Path tmp) throws Exception {
    Path python = Path.of("/usr/bin/python3");
    assumeTrue(Files.isExecutable(python), "no /usr/bin/python3");
    Path script = tmp.resolve("render.py");
    try (var in = Jinja2.class.getResourceAsStream("/jinja/render.py")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    Path input = tmp.resolve("cases.json");
    JSON.writeValue(input.toFile(), cases);
    Process p =
        new ProcessBuilder(python.toString(), script.toString(), input.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assumeTrue(
        p.exitValue() == 0 || !new String(out, StandardCharsets.UTF_8).isEmpty(),
        "python3-jinja2 is not installed (apt-get install python3-jinja2; .ci/run does)");
    List<JsonNode> r = new ArrayList<>();
    JSON.readTree(out).forEach(r::add);
    return r;
  }
}
