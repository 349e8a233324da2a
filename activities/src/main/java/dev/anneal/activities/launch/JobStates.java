package dev.anneal.activities.launch;

import dev.anneal.protocol.ExitCode;
import io.kubernetes.client.openapi.models.V1ContainerStateTerminated;
import io.kubernetes.client.openapi.models.V1ContainerStateWaiting;
import io.kubernetes.client.openapi.models.V1ContainerStatus;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobCondition;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodCondition;
import java.time.OffsetDateTime;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What a runner Job and its pods say about the attempt, read from their status: conditions, the
 * runner container's state, why a pod waits, why a Job failed. Pure; the launcher fetches them.
 */
final class JobStates {
  private JobStates() {}

  static Optional<V1JobCondition> condition(V1Job job, String type) {
    if (job.getStatus() == null || job.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return job.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus()))
        .findFirst();
  }

  static Optional<V1ContainerStatus> runnerStatus(V1Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(c -> JobManifests.CONTAINER.equals(c.getName()))
        .findFirst();
  }

  static Optional<V1ContainerStateTerminated> terminated(V1Pod pod) {
    return runnerStatus(pod).map(c -> c.getState() == null ? null : c.getState().getTerminated());
  }

  static Optional<String> waitingReason(V1Pod pod) {
    Optional<String> waiting =
        runnerStatus(pod)
            .map(c -> c.getState() == null ? null : c.getState().getWaiting())
            .map(JobStates::describe);
    if (waiting.isPresent()) {
      return waiting;
    }
    return podCondition(pod, "PodScheduled", "False")
        .map(c -> "not scheduled: " + c.getReason() + ": " + c.getMessage());
  }

  static String describe(V1ContainerStateWaiting w) {
    return w.getMessage() == null ? w.getReason() : w.getReason() + ": " + w.getMessage();
  }

  static Optional<V1PodCondition> podCondition(V1Pod pod, String type, String status) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()) && status.equals(c.getStatus()))
        .findFirst();
  }

  static String failureReason(V1JobCondition failed, Optional<V1Pod> pod, Integer code) {
    Optional<V1PodCondition> disruption =
        pod.flatMap(p -> podCondition(p, "DisruptionTarget", "True"));
    if (disruption.isPresent()) {
      V1PodCondition d = disruption.get();
      return "pod disrupted ("
          + d.getReason()
          + (d.getMessage() == null ? "" : ": " + d.getMessage())
          + ")"
          + (code == null ? "" : "; runner " + ExitCode.describe(code));
    }
    if ("DeadlineExceeded".equals(failed.getReason())) {
      return "the Job ran past its activeDeadlineSeconds (resources.timeoutSeconds)";
    }
    if (code != null) {
      String oom =
          pod.flatMap(JobStates::terminated)
              .map(
                  t ->
                      "OOMKilled".equals(t.getReason())
                          ? " (OOMKilled: raise resources.memory)"
                          : "")
              .orElse("");
      return ExitCode.describe(code) + oom;
    }
    return "the Job failed ("
        + failed.getReason()
        + (failed.getMessage() == null ? "" : ": " + failed.getMessage())
        + ") before the runner reported an exit code";
  }

  static Optional<V1Pod> newest(List<V1Pod> pods) {
    return pods.stream()
        .max(
            Comparator.comparing(
                p ->
                    p.getMetadata().getCreationTimestamp() == null
                        ? OffsetDateTime.MIN
                        : p.getMetadata().getCreationTimestamp()));
  }
}
