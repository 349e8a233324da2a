package dev.anneal.activities.launch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.EngineSpec;
import dev.anneal.workflows.api.spec.Resources;
import io.kubernetes.client.util.Yaml;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Job and Secret of an attempt against golden files. A deliberate change to the manifests:
 * {@code ./mvnw -pl activities test -Dtest=JobManifestsTest -Danneal.updateGolden=true}, then
 * review the diff.
 */
class JobManifestsTest {

  private static final Path GOLDEN = Path.of("src/test/resources/golden");

  static final KubernetesSettings SETTINGS =
      new KubernetesSettings(
          "anneal-jobs",
          "ghcr.io/anneal/runner:0.1.0",
          "ghcr.io/anneal/runner:0.1.0-cuda",
          "ghcr.io/anneal/runner-torch:0.1.0",
          "ghcr.io/anneal/runner-torch:0.1.0-cuda",
          null,
          "anneal-runner",
          "anneal-s3",
          List.of("-XX:MaxRAMPercentage=75"),
          null,
          null,
          Map.of("app.kubernetes.io/part-of", "anneal"),
          null);

  static final Map<String, String> ENV =
      Map.of(
          EventSink.TOKEN_ENV,
          "anr_0000.token",
          ObjectStoreTarget.ACCESS_KEY_ENV,
          "access",
          ObjectStoreTarget.SECRET_KEY_ENV,
          "secret",
          "ANNEAL_S3_ENDPOINT",
          "http://anneal-minio:9000");

  static LaunchRequest request(String kind) {
    Resources res =
        switch (kind) {
          case "gpu" ->
              new Resources(
                  8,
                  "32",
                  "512Gi",
                  Map.of("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3"),
                  List.of(new Resources.Toleration("nvidia.com/gpu", "Exists", null, "NoSchedule")),
                  "training-high",
                  "team-research",
                  172_800L);
          default -> Resources.defaults();
        };
    return new LaunchRequest(
        "anneal-0f6c-tiny-chat-pretrain-a2-5d1c9e0a7b",
        "research",
        "tiny-chat",
        StageKind.PRETRAIN,
        2,
        "s3://anneal/teams/research/pipelines/tiny-chat/pretrain/specs/attempt-2.json",
        res,
        null,
        ENV);
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpu", "cpu"})
  void jobMatchesGolden(String kind) throws Exception {
    golden("job-" + kind + ".yaml", Yaml.dump(JobManifests.job(request(kind), SETTINGS)));
  }

  /** A torch stage on two 8-GPU nodes: the Indexed Job and its headless Service. */
  @Test
  void gangMatchesGolden() throws Exception {
    LaunchRequest gang =
        request("gpu").withEngine(new EngineSpec(EngineSpec.Kind.TORCH, null, 2, null, null));
    golden(
        "gang-torch.yaml",
        Yaml.dump(JobManifests.job(gang, SETTINGS))
            + "---\n"
            + Yaml.dump(
                GangManifests.service(gang, SETTINGS, JobManifests.labels(gang, SETTINGS))));
  }

  @Test
  void tokenSecretMatchesGolden() throws Exception {
    golden("token-secret.yaml", Yaml.dump(JobManifests.tokenSecret(request("cpu"), SETTINGS)));
  }

  @Test
  void operatorDefaultsGoUnderTheStagesResources() {
    KubernetesSettings withDefaults =
        new KubernetesSettings(
            "anneal-jobs",
            "ghcr.io/anneal/runner:0.1.0",
            "ghcr.io/anneal/runner:0.1.0-cuda",
            "ghcr.io/anneal/runner-torch:0.1.0",
            "ghcr.io/anneal/runner-torch:0.1.0-cuda",
            null,
            "anneal-runner",
            "anneal-s3",
            List.of(),
            null,
            null,
            Map.of(),
            new JobDefaults(
                "amd.com/gpu",
                Map.of("pool", "training", "nvidia.com/gpu.product", "A100"),
                List.of(new Resources.Toleration("dedicated", "Equal", "training", "NoSchedule")),
                "training-low",
                "team-default",
                "8",
                "64Gi"));
    // a GPU stage with its own selector key, toleration, priority class and queue
    var gpu = JobManifests.job(request("gpu"), withDefaults);
    var spec = gpu.getSpec().getTemplate().getSpec();
    assertThat(spec.getNodeSelector())
        .containsEntry("pool", "training")
        .containsEntry("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3");
    assertThat(spec.getTolerations()).hasSize(2);
    assertThat(spec.getPriorityClassName()).isEqualTo("training-high");
    assertThat(gpu.getMetadata().getLabels())
        .containsEntry(JobManifests.KUEUE_QUEUE, "team-research");
    var limits = spec.getContainers().get(0).getResources().getLimits();
    assertThat(limits).containsKey("amd.com/gpu").doesNotContainKey("nvidia.com/gpu");
    assertThat(limits.get("memory").toSuffixedString()).isEqualTo("512Gi");
    // a stage that asks for nothing gets the operator's choices
    var plain = JobManifests.job(request("cpu"), withDefaults);
    var plainSpec = plain.getSpec().getTemplate().getSpec();
    assertThat(plainSpec.getPriorityClassName()).isEqualTo("training-low");
    assertThat(plain.getMetadata().getLabels())
        .containsEntry(JobManifests.KUEUE_QUEUE, "team-default");
    var requests = plainSpec.getContainers().get(0).getResources().getRequests();
    assertThat(requests.get("cpu").toSuffixedString()).isEqualTo("8");
    assertThat(requests.get("memory").toSuffixedString()).isEqualTo("64Gi");
  }

  @Test
  void aGpuStageRunsTheCudaImageAndACpuStageTheCpuOne() {
    assertThat(JobManifests.job(request("gpu"), SETTINGS).getSpec().getTemplate().getSpec())
        .extracting(pod -> pod.getContainers().get(0).getImage())
        .isEqualTo("ghcr.io/anneal/runner:0.1.0-cuda");
    assertThat(JobManifests.job(request("cpu"), SETTINGS).getSpec().getTemplate().getSpec())
        .extracting(pod -> pod.getContainers().get(0).getImage())
        .isEqualTo("ghcr.io/anneal/runner:0.1.0");
  }

  private static LaunchRequest onTorch(LaunchRequest r, Integer ranks) {
    return r.withEngine(new EngineSpec(EngineSpec.Kind.TORCH, ranks, null, null, null));
  }

  @Test
  void aTorchStageRunsItsRanksUnderTheWrapperInTheTorchImage() {
    var pod =
        JobManifests.job(onTorch(request("gpu"), null), SETTINGS).getSpec().getTemplate().getSpec();
    var c = pod.getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("ghcr.io/anneal/runner-torch:0.1.0-cuda");
    // one rank a GPU of the pod
    assertThat(String.join(" ", c.getCommand()))
        .endsWith(
            "-jar /opt/anneal/anneal-runner.jar exec --spec "
                + request("gpu").specUri()
                + " --ranks 8 --engine torch");
    assertThat(c.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/dev/shm"));
    assertThat(pod.getVolumes())
        .anyMatch(v -> v.getName().equals("dshm") && "Memory".equals(v.getEmptyDir().getMedium()));
    var cpu =
        JobManifests.job(onTorch(request("cpu"), 2), SETTINGS).getSpec().getTemplate().getSpec();
    assertThat(cpu.getContainers().get(0).getImage())
        .isEqualTo("ghcr.io/anneal/runner-torch:0.1.0");
    assertThat(cpu.getContainers().get(0).getCommand()).containsSequence("--ranks", "2");
    // the built-in engine's pods are as before: no /dev/shm
    assertThat(
            JobManifests.job(request("cpu"), SETTINGS)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getVolumes())
        .noneMatch(v -> v.getName().equals("dshm"));
  }

  @Test
  void aStageOnSeveralNodesIsAnIndexedJobWhoseNodesMeetAtPodZero() {
    LaunchRequest r = request("gpu");
    LaunchRequest gang = r.withEngine(new EngineSpec(EngineSpec.Kind.TORCH, null, 4, null, null));
    var job = JobManifests.job(gang, SETTINGS);
    assertThat(job.getSpec().getCompletionMode()).isEqualTo("Indexed");
    assertThat(job.getSpec().getCompletions()).isEqualTo(4);
    assertThat(job.getSpec().getParallelism()).isEqualTo(4);
    assertThat(job.getSpec().getBackoffLimit()).isZero();
    var pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getSubdomain()).isEqualTo(r.jobName());
    // 8 ranks a pod (one a GPU), the node rank from JOB_COMPLETION_INDEX
    assertThat(String.join(" ", pod.getContainers().get(0).getCommand()))
        .endsWith(
            " --ranks 8 --nodes 4 --master "
                + r.jobName()
                + "-0."
                + r.jobName()
                + ".anneal-jobs.svc:29500 --engine torch");
    var svc = GangManifests.service(gang, SETTINGS, JobManifests.labels(gang, SETTINGS));
    assertThat(svc.getMetadata().getName()).isEqualTo(r.jobName());
    assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(svc.getSpec().getPublishNotReadyAddresses()).isTrue();
    assertThat(svc.getSpec().getSelector()).containsEntry(JobManifests.LABEL_JOB, r.jobName());
    // one machine cannot hold a gang
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> RunnerArgs.of(gang, null, null))
        .hasMessageContaining("engine.nodes: the local launcher runs on this one machine");
  }

  @Test
  void aCommandEngineRunsInAContainerOfItsOwnWithoutTheCredentials() {
    LaunchRequest own =
        request("gpu")
            .withEngine(
                new EngineSpec(
                    EngineSpec.Kind.COMMAND,
                    null,
                    null,
                    "registry.example.com/t/train:1",
                    List.of("python3", "train.py")));
    var pod = JobManifests.job(own, SETTINGS).getSpec().getTemplate().getSpec();
    assertThat(pod.getContainers())
        .extracting(c -> c.getName())
        .containsExactly("runner", "engine");
    var runner = pod.getContainers().get(0);
    var engine = pod.getContainers().get(1);
    // the wrapper, with the credentials, in the platform's runner image and a small share
    assertThat(runner.getImage()).isEqualTo("ghcr.io/anneal/runner:0.1.0");
    assertThat(String.join(" ", runner.getCommand()))
        .endsWith(
            "-jar /opt/anneal/anneal-runner.jar exec --spec "
                + own.specUri()
                + " --ranks 8 --sidecar --work /work/exec -- python3 train.py");
    assertThat(runner.getEnv()).anyMatch(e -> e.getName().equals("ANNEAL_S3_SECRET_KEY"));
    assertThat(runner.getResources().getLimits()).doesNotContainKey("nvidia.com/gpu");
    // the team's program, with the stage's GPUs, the shared work volume, and none of the keys
    assertThat(engine.getImage()).isEqualTo("registry.example.com/t/train:1");
    // it waits for the wrapper's go on the shared volume (ExecSidecar, the runner's side of it)
    assertThat(engine.getCommand())
        .isEqualTo(dev.anneal.protocol.ExecSidecar.entrypoint("/work/exec"));
    assertThat(String.join(" ", engine.getCommand())).contains("d='/work/exec/ranks'");
    assertThat(engine.getEnv()).extracting(e -> e.getName()).containsExactly("HOME");
    assertThat(engine.getResources().getLimits().get("nvidia.com/gpu").toSuffixedString())
        .isEqualTo("8");
    assertThat(engine.getVolumeMounts())
        .extracting(m -> m.getMountPath())
        .contains("/work", "/dev/shm");
    assertThat(runner.getVolumeMounts()).extracting(m -> m.getMountPath()).contains("/work");
    // without its image, refused naming the field
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                JobManifests.job(
                    request("cpu")
                        .withEngine(
                            new EngineSpec(
                                EngineSpec.Kind.COMMAND, null, null, null, List.of("x"))),
                    SETTINGS))
        .hasMessageStartingWith("engine.image: a command engine on Kubernetes");
    // the built-in engine's pod has one container
    assertThat(JobManifests.job(request("cpu"), SETTINGS).getSpec().getTemplate().getSpec())
        .extracting(p -> p.getContainers().size())
        .isEqualTo(1);
  }

  @Test
  void aTorchStageWithoutATorchImageIsRefusedNamingTheChartsValue() {
    KubernetesSettings none =
        new KubernetesSettings(
            "anneal-jobs",
            "ghcr.io/anneal/runner:0.1.0",
            "ghcr.io/anneal/runner:0.1.0-cuda",
            "",
            null,
            null,
            "anneal-runner",
            "anneal-s3",
            List.of(),
            null,
            null,
            Map.of(),
            null);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> JobManifests.job(onTorch(request("cpu"), 2), none))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("training.runner.torchImage")
        .hasMessageContaining("Python 3 and PyTorch");
  }

  @Test
  void labelValuesAreValid() {
    assertThat(JobManifests.labelValue("a/b c")).isEqualTo("a-b-c");
    assertThat(JobManifests.labelValue("-x-")).isEqualTo("x");
    assertThat(JobManifests.labelValue("y".repeat(80))).hasSize(63);
  }

  private static void golden(String file, String actual) throws Exception {
    Path path = GOLDEN.resolve(file);
    if (Boolean.getBoolean("anneal.updateGolden") || !Files.exists(path)) {
      Files.writeString(path, actual, StandardCharsets.UTF_8);
      if (!Boolean.getBoolean("anneal.updateGolden")) {
        throw new AssertionError("wrote a new golden file " + path + "; review and commit it");
      }
    }
    assertThat(actual)
        .as("%s differs; if the change is intended, rerun with -Danneal.updateGolden=true", path)
        .isEqualTo(Files.readString(path));
  }
}
