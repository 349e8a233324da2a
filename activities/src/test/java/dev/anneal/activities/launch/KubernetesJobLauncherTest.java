package dev.anneal.activities.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.JobState.Phase;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.EngineSpec;
import dev.anneal.workflows.api.spec.Resources;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Service;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes launcher against an in-memory API server (no cluster here), with a test kubelet
 * that drives the pods. What is real: the official client, the HTTP API calls and the objects they
 * carry; what is played: scheduling, the Job controller, the kubelet.
 */
class KubernetesJobLauncherTest {

  private static final String NS = "anneal-jobs";
  private static InMemoryKubernetes k8s;
  private static ApiClient client;
  private static KubernetesJobLauncher launcher;
  private static TestKubelet kubelet;

  @BeforeAll
  static void start() {
    k8s = new InMemoryKubernetes();
    client = k8s.client();
    launcher =
        new KubernetesJobLauncher(
            client,
            new KubernetesSettings(
                NS,
                "anneal/runner:test",
                "anneal/runner:test-cuda",
                "anneal/runner-torch:test",
                "anneal/runner-torch:test-cuda",
                null,
                "anneal-runner",
                "anneal-s3",
                List.of(),
                null,
                null,
                null,
                null));
    kubelet = new TestKubelet(client, NS);
  }

  @AfterAll
  static void stop() {
    k8s.close();
  }

  static LaunchRequest request(String job) {
    return new LaunchRequest(
        job,
        "research",
        "tiny-chat",
        StageKind.PRETRAIN,
        1,
        "s3://anneal/specs/x.json",
        new Resources(1, "4", "16Gi", Map.of(), List.of(), null, null, 3600L),
        null,
        Map.of(
            EventSink.TOKEN_ENV,
            "anr_secret-token",
            ObjectStoreTarget.ACCESS_KEY_ENV,
            "AKIA-not-in-the-job",
            ObjectStoreTarget.SECRET_KEY_ENV,
            "s3-secret-not-in-the-job",
            "ANNEAL_S3_ENDPOINT",
            "http://minio:9000"));
  }

  @Test
  void launchIsIdempotentAndKeepsSecretsOutOfTheJob() throws Exception {
    String name = "anneal-idem-a1-0123456789";
    JobState first = launcher.launch(request(name));
    JobState again = launcher.launch(request(name));
    assertThat(first.phase()).isEqualTo(Phase.PENDING);
    assertThat(again.phase()).isEqualTo(Phase.PENDING);

    List<V1Job> jobs =
        new BatchV1Api(client)
            .listNamespacedJob(NS)
            .labelSelector(JobManifests.LABEL_JOB + "=" + name)
            .execute()
            .getItems();
    assertThat(jobs).hasSize(1); // never a twin
    String manifest = io.kubernetes.client.util.Yaml.dump(jobs.get(0));
    assertThat(manifest)
        .doesNotContain("anr_secret-token", "AKIA-not-in-the-job", "s3-secret-not-in-the-job")
        .contains("nvidia.com/gpu");

    V1Secret token =
        new CoreV1Api(client)
            .readNamespacedSecret(JobManifests.tokenSecretName(name), NS)
            .execute();
    assertThat(token.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("Job");
              assertThat(o.getName()).isEqualTo(name);
              assertThat(o.getUid()).isEqualTo(jobs.get(0).getMetadata().getUid());
            });
  }

  @Test
  void followsThePodToSuccess() throws Exception {
    String name = "anneal-ok-a1-0123456789";
    launcher.launch(request(name));
    kubelet.schedule(name);
    kubelet.waiting(name, "ContainerCreating", null);
    assertThat(launcher.status(name).phase()).isEqualTo(Phase.PENDING);
    assertThat(launcher.status(name).reason()).isEqualTo("ContainerCreating");
    kubelet.run(name);
    assertThat(launcher.status(name).phase()).isEqualTo(Phase.RUNNING);
    kubelet.exit(name, 0, "Completed");
    JobState done = launcher.status(name);
    assertThat(done.phase()).isEqualTo(Phase.SUCCEEDED);
    assertThat(done.exitCode()).isZero();
    assertThat(done.startedAt()).isNotNull();
    assertThat(done.finishedAt()).isNotNull();
  }

  @Test
  void reportsTheRunnersExitCode() throws Exception {
    String name = "anneal-unstable-a1-0123456789";
    launcher.launch(request(name));
    kubelet.schedule(name);
    kubelet.run(name);
    kubelet.exit(name, 5, "Error");
    JobState s = launcher.status(name);
    assertThat(s.phase()).isEqualTo(Phase.FAILED);
    assertThat(s.exitCode()).isEqualTo(5);
    assertThat(s.reason()).startsWith("instability");
  }

  @Test
  void oomKillIsNamed() throws Exception {
    String name = "anneal-oom-a1-0123456789";
    launcher.launch(request(name));
    kubelet.schedule(name);
    kubelet.run(name);
    kubelet.exit(name, 137, "OOMKilled");
    JobState s = launcher.status(name);
    assertThat(s.exitCode()).isEqualTo(137);
    assertThat(s.reason()).contains("OOMKilled").contains("resources.memory");
  }

  @Test
  void evictionIsADisruptionNotARunnerFailure() throws Exception {
    String name = "anneal-evicted-a1-0123456789";
    launcher.launch(request(name));
    kubelet.schedule(name);
    kubelet.run(name);
    kubelet.evict(name, 6); // the runner got SIGTERM, committed a checkpoint and exited 6
    JobState s = launcher.status(name);
    assertThat(s.phase()).isEqualTo(Phase.FAILED);
    assertThat(s.exitCode()).isEqualTo(6);
    assertThat(s.reason()).startsWith("pod disrupted (EvictionByEvictionAPI");
    V1Job job = new BatchV1Api(client).readNamespacedJob(name, NS).execute();
    assertThat(job.getStatus().getConditions())
        .anyMatch(c -> "PodFailurePolicy".equals(c.getReason()));
  }

  @Test
  void badInputEndsTheJobThroughItsOwnRule() throws Exception {
    String name = "anneal-badspec-a1-0123456789";
    launcher.launch(request(name));
    kubelet.schedule(name);
    kubelet.run(name);
    kubelet.exit(name, 2, "Error");
    JobState s = launcher.status(name);
    assertThat(s.exitCode()).isEqualTo(2);
    assertThat(s.reason()).startsWith("invalid_spec");
    V1Job job = new BatchV1Api(client).readNamespacedJob(name, NS).execute();
    assertThat(job.getStatus().getConditions())
        .anyMatch(c -> "PodFailurePolicy".equals(c.getReason()));
  }

  @Test
  void aWorkerThatRestartsReattachesToTheRunningJob() throws Exception {
    String name = "anneal-reattach-a1-0123456789";
    launcher.launch(request(name));
    kubelet.schedule(name);
    kubelet.run(name);
    // a new launcher (a restarted worker) holds no state of its own: it reads the Job back
    KubernetesJobLauncher restarted = new KubernetesJobLauncher(k8s.client(), launcher.settings());
    assertThat(restarted.launch(request(name)).phase()).isEqualTo(Phase.RUNNING);
    assertThat(kubelet.pod(name)).isNotNull(); // still exactly one pod
  }

  @Test
  void cancelDeletesTheJobAndItsTokenAndALostJobIsUnknown() throws Exception {
    String name = "anneal-cancel-a1-0123456789";
    launcher.launch(request(name));
    kubelet.schedule(name);
    kubelet.run(name);
    launcher.cancel(name);
    launcher.cancel(name); // twice is fine
    JobState s = launcher.status(name);
    assertThat(s.phase()).isEqualTo(Phase.UNKNOWN);
    assertThat(s.reason()).contains("no longer exists");
    assertThatThrownBy(
            () ->
                new CoreV1Api(client)
                    .readNamespacedSecret(JobManifests.tokenSecretName(name), NS)
                    .execute())
        .isInstanceOf(ApiException.class)
        .satisfies(e -> assertThat(((ApiException) e).getCode()).isEqualTo(404));
  }

  @Test
  void aGangGetsItsHeadlessServiceAndReportsTheLeadersExitCode() throws Exception {
    String name = "anneal-gang-a1-0123456789";
    LaunchRequest r = request(name);
    LaunchRequest gang = r.withEngine(new EngineSpec(EngineSpec.Kind.TORCH, null, 2, null, null));
    launcher.launch(gang);
    launcher.launch(gang); // idempotent: one Job, one Service
    V1Job job = new BatchV1Api(client).readNamespacedJob(name, NS).execute();
    assertThat(job.getSpec().getCompletionMode()).isEqualTo("Indexed");
    assertThat(job.getSpec().getParallelism()).isEqualTo(2);
    V1Service svc = new CoreV1Api(client).readNamespacedService(name, NS).execute();
    assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(svc.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getName()).isEqualTo(name));
    List<V1Pod> pods = kubelet.scheduleIndexed(name);
    assertThat(pods).hasSize(2);
    assertThat(launcher.status(name).phase()).isEqualTo(Phase.RUNNING);
    // the follower's rank loses its peer and exits first; the leader reports the instability
    kubelet.exitPod(pods.get(1), 1);
    kubelet.exitPod(pods.get(0), 5);
    kubelet.failJob(name, 1);
    JobState s = launcher.status(name);
    assertThat(s.phase()).isEqualTo(Phase.FAILED);
    assertThat(s.exitCode()).as("the leader's code, not its echo").isEqualTo(5);
  }

  @Test
  void aRequestWithoutTokenIsRefusedBeforeAnythingIsCreated() {
    LaunchRequest r = request("anneal-notoken-a1-0123456789");
    LaunchRequest noToken = r.withEnv(Map.of());
    assertThatThrownBy(() -> launcher.launch(noToken)).hasMessageContaining("ANNEAL_RUNNER_TOKEN");
    assertThat(launcher.status(r.jobName()).phase()).isEqualTo(Phase.UNKNOWN);
  }
}
