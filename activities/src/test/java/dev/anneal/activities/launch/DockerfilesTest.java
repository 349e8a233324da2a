package dev.anneal.activities.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The runner images (no Docker engine here to build them) agree with what the Kubernetes launcher
 * runs: the jar where the Job's command expects it, the scratch folder as working directory, a
 * non-root user whose group owns the Job's volumes, and a COPY source the build produces.
 */
class DockerfilesTest {
  static final Path DOCKER = Path.of("../deploy/docker");

  private static String one(String text, String regex) {
    Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
    assertThat(m.find()).as(regex).isTrue();
    return m.group(1);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "runner.Dockerfile",
        "runner-cuda.Dockerfile",
        "runner-torch.Dockerfile",
        "runner-torch-cuda.Dockerfile"
      })
  void runnerImagesMatchTheJobsTheLauncherMakes(String file) throws Exception {
    String df = Files.readString(DOCKER.resolve(file));
    String copy = one(df, "^COPY (\\S+) " + Pattern.quote(JobManifests.RUNNER_JAR) + "$");
    assertThat(copy).isEqualTo("gpu-runner/engine/target/anneal-runner.jar");
    assertThat(Path.of("..").resolve(copy).getParent()).as("the build writes there").exists();
    assertThat(one(df, "^WORKDIR (\\S+)$")).isEqualTo(JobManifests.SCRATCH);
    assertThat(one(df, "^USER (\\d+):\\d+$")).isNotEqualTo("0");
    // the Job's fsGroup (1000) must be the user's group, so it can write its volumes
    assertThat(one(df, "^USER \\d+:(\\d+)$")).isEqualTo("1000");
    assertThat(one(df, "^ENTRYPOINT (.+)$"))
        .isEqualTo("[\"java\", \"-jar\", \"" + JobManifests.RUNNER_JAR + "\"]");
    // the Job runs `java <options> -jar <jar> --spec …` itself
    var job = JobManifests.job(JobManifestsTest.request("cpu"), JobManifestsTest.SETTINGS);
    List<String> cmd = job.getSpec().getTemplate().getSpec().getContainers().get(0).getCommand();
    assertThat(cmd).contains("-jar", JobManifests.RUNNER_JAR, "--spec");
  }

  @ParameterizedTest
  @ValueSource(strings = {"runner-torch.Dockerfile", "runner-torch-cuda.Dockerfile"})
  void torchImagesNameTheirPythonAndCarrySetpriv(String file) throws Exception {
    String df = Files.readString(DOCKER.resolve(file));
    // the wrapper runs the reference engine with $ANNEAL_PYTHON, each rank under setpriv
    assertThat(one(df, "ANNEAL_PYTHON=(\\S+)")).startsWith("/");
    assertThat(df).contains("util-linux");
  }

  @ParameterizedTest
  @ValueSource(strings = {"platform.Dockerfile"})
  void thePlatformImageRunsTheExecutableJarAsNonRoot(String file) throws Exception {
    String df = Files.readString(DOCKER.resolve(file));
    assertThat(one(df, "^COPY (\\S+) /app/anneal.jar$"))
        .isEqualTo("platform-api/target/anneal.jar");
    // the chart's podSecurityContext runs as 10001
    assertThat(one(df, "^USER (\\d+):\\d+$")).isEqualTo("10001");
    assertThat(one(df, "^ENTRYPOINT (.+)$")).isEqualTo("[\"java\", \"-jar\", \"/app/anneal.jar\"]");
  }
}
