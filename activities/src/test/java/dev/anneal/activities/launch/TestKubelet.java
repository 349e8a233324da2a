package dev.anneal.activities.launch;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ContainerState;
import io.kubernetes.client.openapi.models.V1ContainerStateRunning;
import io.kubernetes.client.openapi.models.V1ContainerStateTerminated;
import io.kubernetes.client.openapi.models.V1ContainerStateWaiting;
import io.kubernetes.client.openapi.models.V1ContainerStatus;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobCondition;
import io.kubernetes.client.openapi.models.V1JobStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodCondition;
import io.kubernetes.client.openapi.models.V1PodFailurePolicyRule;
import io.kubernetes.client.openapi.models.V1PodStatus;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * Plays the Job controller and the kubelet against the in-memory API server: makes the pod of a
 * Job, moves it through its phases, ends it with an exit code or an eviction, and sets the Job's
 * conditions the way the Job controller does — including evaluating the Job's pod failure policy,
 * so that a rule's {@code FailJob} shows up as the {@code PodFailurePolicy} reason.
 */
final class TestKubelet {
  private final String ns;
  private final BatchV1Api batch;
  private final CoreV1Api core;

  TestKubelet(ApiClient client, String namespace) {
    this.ns = namespace;
    this.batch = new BatchV1Api(client);
    this.core = new CoreV1Api(client);
  }

  private static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC);
  }

  /** The Job controller creates the pod: Pending, not yet scheduled or pulling its image. */
  V1Pod schedule(String jobName) throws ApiException {
    V1Job job = batch.readNamespacedJob(jobName, ns).execute();
    V1Pod pod =
        new V1Pod()
            .apiVersion("v1")
            .kind("Pod")
            .metadata(
                new V1ObjectMeta()
                    .name(jobName + "-" + Long.toString(System.nanoTime() % 100_000, 36))
                    .namespace(ns)
                    .labels(job.getSpec().getTemplate().getMetadata().getLabels())
                    .creationTimestamp(now())
                    .ownerReferences(
                        List.of(
                            new V1OwnerReference()
                                .apiVersion("batch/v1")
                                .kind("Job")
                                .name(jobName)
                                .uid(job.getMetadata().getUid()))))
            .spec(job.getSpec().getTemplate().getSpec());
    pod = core.createNamespacedPod(ns, pod).execute();
    job.status(new V1JobStatus().active(1).startTime(now()));
    batch.replaceNamespacedJobStatus(jobName, ns, job.apiVersion("batch/v1").kind("Job")).execute();
    return setPodStatus(pod, new V1PodStatus().phase("Pending"));
  }

  /**
   * The Job controller of an Indexed Job: one running pod an index, each annotated with it, the
   * pods named as the Job's hostnames are ({@code <job>-<index>}).
   */
  List<V1Pod> scheduleIndexed(String jobName) throws ApiException {
    V1Job job = batch.readNamespacedJob(jobName, ns).execute();
    List<V1Pod> pods = new java.util.ArrayList<>();
    for (int i = 0; i < job.getSpec().getCompletions(); i++) {
      V1Pod pod =
          new V1Pod()
              .apiVersion("v1")
              .kind("Pod")
              .metadata(
                  new V1ObjectMeta()
                      .name(jobName + "-" + i)
                      .namespace(ns)
                      .labels(job.getSpec().getTemplate().getMetadata().getLabels())
                      .annotations(
                          java.util.Map.of(
                              KubernetesJobLauncher.COMPLETION_INDEX, Integer.toString(i)))
                      .creationTimestamp(now().plusSeconds(i)))
              .spec(job.getSpec().getTemplate().getSpec());
      pod = core.createNamespacedPod(ns, pod).execute();
      pods.add(setPodStatus(pod, new V1PodStatus().phase("Running").startTime(now())));
    }
    job.status(new V1JobStatus().active(pods.size()).startTime(now()));
    batch.replaceNamespacedJobStatus(jobName, ns, job.apiVersion("batch/v1").kind("Job")).execute();
    return pods;
  }

  /** One pod of a gang: its runner ends with this exit code. */
  void exitPod(V1Pod pod, int code) throws ApiException {
    setPodStatus(
        pod,
        new V1PodStatus()
            .phase(code == 0 ? "Succeeded" : "Failed")
            .containerStatuses(
                List.of(
                    container(
                        new V1ContainerState()
                            .terminated(
                                new V1ContainerStateTerminated()
                                    .exitCode(code)
                                    .reason(code == 0 ? "Completed" : "Error")
                                    .finishedAt(now()))))));
  }

  /** The Job controller marks the gang's Job as its first failed pod decides. */
  void failJob(String jobName, int code) throws ApiException {
    finishJob(jobName, code, false);
  }

  void waiting(String jobName, String reason, String message) throws ApiException {
    V1Pod pod = pod(jobName);
    setPodStatus(
        pod,
        new V1PodStatus()
            .phase("Pending")
            .containerStatuses(
                List.of(
                    container(
                        new V1ContainerState()
                            .waiting(
                                new V1ContainerStateWaiting().reason(reason).message(message))))));
  }

  void run(String jobName) throws ApiException {
    setPodStatus(
        pod(jobName),
        new V1PodStatus()
            .phase("Running")
            .startTime(now())
            .containerStatuses(
                List.of(
                    container(
                        new V1ContainerState()
                            .running(new V1ContainerStateRunning().startedAt(now()))))));
  }

  /** The runner process ends with this exit code. */
  void exit(String jobName, int code, String reason) throws ApiException {
    V1Pod pod = pod(jobName);
    terminate(pod, code, reason, List.of());
    finishJob(jobName, code, false);
  }

  /** The pod is evicted (a node drain, a preemption): DisruptionTarget, then the runner's exit. */
  void evict(String jobName, int runnerExitCode) throws ApiException {
    V1Pod pod = pod(jobName);
    terminate(
        pod,
        runnerExitCode,
        "Error",
        List.of(
            new V1PodCondition()
                .type("DisruptionTarget")
                .status("True")
                .reason("EvictionByEvictionAPI")
                .message("Eviction API: evicting")));
    finishJob(jobName, runnerExitCode, true);
  }

  private void terminate(V1Pod pod, int code, String reason, List<V1PodCondition> conditions)
      throws ApiException {
    setPodStatus(
        pod,
        new V1PodStatus()
            .phase(code == 0 ? "Succeeded" : "Failed")
            .conditions(conditions)
            .containerStatuses(
                List.of(
                    container(
                        new V1ContainerState()
                            .terminated(
                                new V1ContainerStateTerminated()
                                    .exitCode(code)
                                    .reason(reason)
                                    .finishedAt(now()))))));
  }

  /** What the Job controller does when its only pod ends (backoffLimit 0). */
  private void finishJob(String jobName, int code, boolean disrupted) throws ApiException {
    V1Job job = batch.readNamespacedJob(jobName, ns).execute();
    V1JobStatus status = job.getStatus() == null ? new V1JobStatus() : job.getStatus();
    status.active(0);
    if (code == 0) {
      status.succeeded(1).completionTime(now());
      status.conditions(
          List.of(new V1JobCondition().type("Complete").status("True").lastTransitionTime(now())));
    } else {
      String reason =
          matchesRule(job, code, disrupted) ? "PodFailurePolicy" : "BackoffLimitExceeded";
      status.failed(1);
      status.conditions(
          List.of(
              new V1JobCondition()
                  .type("Failed")
                  .status("True")
                  .reason(reason)
                  .message(
                      reason.equals("PodFailurePolicy")
                          ? "Container runner for pod failed with exit code "
                              + code
                              + " matching FailJob rule"
                          : "Job has reached the specified backoff limit")
                  .lastTransitionTime(now())));
    }
    batch
        .replaceNamespacedJobStatus(
            jobName, ns, job.status(status).apiVersion("batch/v1").kind("Job"))
        .execute();
  }

  private static boolean matchesRule(V1Job job, int code, boolean disrupted) {
    if (job.getSpec().getPodFailurePolicy() == null) {
      return false;
    }
    for (V1PodFailurePolicyRule rule : job.getSpec().getPodFailurePolicy().getRules()) {
      if (rule.getOnPodConditions() != null
          && disrupted
          && rule.getOnPodConditions().stream()
              .anyMatch(c -> "DisruptionTarget".equals(c.getType()))) {
        return true;
      }
      if (rule.getOnExitCodes() != null
          && "In".equals(rule.getOnExitCodes().getOperator())
          && rule.getOnExitCodes().getValues().contains(code)) {
        return true;
      }
    }
    return false;
  }

  V1Pod pod(String jobName) throws ApiException {
    List<V1Pod> pods =
        core.listNamespacedPod(ns)
            .labelSelector(JobManifests.LABEL_JOB + "=" + jobName)
            .execute()
            .getItems();
    if (pods.size() != 1) {
      throw new IllegalStateException(pods.size() + " pods for " + jobName);
    }
    return pods.get(0);
  }

  private V1Pod setPodStatus(V1Pod pod, V1PodStatus status) throws ApiException {
    V1Pod current = core.readNamespacedPod(pod.getMetadata().getName(), ns).execute();
    current.status(status).apiVersion("v1").kind("Pod");
    return core.replaceNamespacedPodStatus(pod.getMetadata().getName(), ns, current).execute();
  }

  private static V1ContainerStatus container(V1ContainerState state) {
    return new V1ContainerStatus()
        .name(JobManifests.CONTAINER)
        .image("anneal/runner:test")
        .imageID("")
        .ready(state.getRunning() != null)
        .restartCount(0)
        .state(state);
  }
}
