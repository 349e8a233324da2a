package dev.anneal.activities.launch;

import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.JobState.Phase;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.BatchV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobCondition;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Service;
import io.temporal.failure.ApplicationFailure;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each attempt as a Kubernetes {@code batch/v1} Job (manifests from {@link JobManifests}),
 * through the official Java client. Launch is idempotent: the Job's name is deterministic and
 * "already exists" means it was launched before (a retried activity, a restarted worker). Status is
 * read from the API every time, so a worker that restarts re-attaches to the running Job.
 */
public final class KubernetesJobLauncher implements JobLauncher {

  private static final Logger log = LoggerFactory.getLogger(KubernetesJobLauncher.class);

  private final BatchV1Api batch;
  private final CoreV1Api core;
  private final KubernetesSettings settings;

  public KubernetesJobLauncher(ApiClient client, KubernetesSettings settings) {
    this.batch = new BatchV1Api(client);
    this.core = new CoreV1Api(client);
    this.settings = settings;
  }

  public KubernetesSettings settings() {
    return settings;
  }

  @Override
  public JobState launch(LaunchRequest request) {
    String ns = settings.namespace();
    V1Secret secret = JobManifests.tokenSecret(request, settings);
    V1Job job = JobManifests.job(request, settings);
    try {
      createIfAbsent(() -> core.createNamespacedSecret(ns, secret).execute());
      Optional<V1Job> created = createIfAbsent(() -> batch.createNamespacedJob(ns, job).execute());
      if (created.isPresent() && GangManifests.isGang(request)) {
        // the gang's DNS, owned by its Job: Kubernetes deletes it with the Job
        V1Service service =
            GangManifests.service(request, settings, JobManifests.labels(request, settings));
        service.getMetadata().setOwnerReferences(List.of(JobManifests.ownedBy(created.get())));
        createIfAbsent(() -> core.createNamespacedService(ns, service).execute());
      }
      if (created.isPresent()) {
        log.info("created Job {}/{} for {}", ns, request.jobName(), request);
        // the token Secret goes when the Job goes (ttlSecondsAfterFinished or deletion)
        V1Secret current = core.readNamespacedSecret(secret.getMetadata().getName(), ns).execute();
        current.getMetadata().setOwnerReferences(List.of(JobManifests.ownedBy(created.get())));
        core.replaceNamespacedSecret(
                current.getMetadata().getName(), ns, current.apiVersion("v1").kind("Secret"))
            .execute();
      } else {
        log.info("Job {}/{} already exists: attaching to it", ns, request.jobName());
      }
    } catch (ApiException e) {
      throw failure("creating Job " + request.jobName(), e);
    }
    return status(request.jobName());
  }

  private interface Call<T> {
    T run() throws ApiException;
  }

  private static <T> Optional<T> createIfAbsent(Call<T> create) throws ApiException {
    try {
      return Optional.of(create.run());
    } catch (ApiException e) {
      if (e.getCode() == 409) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public JobState status(String jobName) {
    String ns = settings.namespace();
    V1Job job;
    try {
      job = batch.readNamespacedJob(jobName, ns).execute();
    } catch (ApiException e) {
      if (e.getCode() == 404) {
        return new JobState(
            jobName,
            Phase.UNKNOWN,
            null,
            "Job "
                + ns
                + "/"
                + jobName
                + " no longer exists (deleted by someone, or past its ttlSecondsAfterFinished)",
            null,
            null);
      }
      throw failure("reading Job " + jobName, e);
    }
    Optional<V1Pod> pod = reportingPod(jobName);
    Instant started = instant(job.getStatus() == null ? null : job.getStatus().getStartTime());
    Instant finished =
        instant(job.getStatus() == null ? null : job.getStatus().getCompletionTime());
    if (JobStates.condition(job, "Complete").isPresent()) {
      return new JobState(jobName, Phase.SUCCEEDED, 0, null, started, finished);
    }
    Optional<V1JobCondition> failed = JobStates.condition(job, "Failed");
    if (failed.isPresent()) {
      Integer code = pod.flatMap(JobStates::terminated).map(t -> t.getExitCode()).orElse(null);
      return new JobState(
          jobName,
          Phase.FAILED,
          code,
          JobStates.failureReason(failed.get(), pod, code),
          started,
          finished);
    }
    boolean running =
        pod.map(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
            .orElse(false);
    return new JobState(
        jobName,
        running ? Phase.RUNNING : Phase.PENDING,
        null,
        running ? null : pod.flatMap(JobStates::waitingReason).orElse(null),
        started,
        null);
  }

  @Override
  public void cancel(String jobName) {
    String ns = settings.namespace();
    try {
      // background propagation: the pod is deleted with its grace period, so the runner gets
      // SIGTERM and commits a checkpoint before it goes
      batch.deleteNamespacedJob(jobName, ns).propagationPolicy("Background").execute();
      log.info("deleted Job {}/{}", ns, jobName);
    } catch (ApiException e) {
      if (e.getCode() != 404) {
        throw failure("deleting Job " + jobName, e);
      }
    }
    try {
      core.deleteNamespacedSecret(JobManifests.tokenSecretName(jobName), ns).execute();
    } catch (ApiException e) {
      if (e.getCode() != 404) {
        throw failure("deleting the token Secret of " + jobName, e);
      }
    }
  }

  /** The annotation an Indexed Job's pod carries its index in. */
  static final String COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";

  /**
   * The pod whose runner says how the attempt ended: of a gang, the leader (index 0) once it has
   * ended, since it decides the outcome and a follower's crash is often its echo; else the newest.
   */
  private Optional<V1Pod> reportingPod(String jobName) {
    List<V1Pod> pods;
    try {
      pods =
          core.listNamespacedPod(settings.namespace())
              .labelSelector(JobManifests.LABEL_JOB + "=" + jobName)
              .execute()
              .getItems();
    } catch (ApiException e) {
      throw failure("listing the pods of Job " + jobName, e);
    }
    Optional<V1Pod> leader =
        pods.stream()
            .filter(
                p ->
                    p.getMetadata().getAnnotations() != null
                        && "0".equals(p.getMetadata().getAnnotations().get(COMPLETION_INDEX)))
            .filter(p -> JobStates.terminated(p).isPresent())
            .findFirst();
    return leader.isPresent() ? leader : JobStates.newest(pods);
  }

  private static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }

  /**
   * Client errors (bad manifest, no permission, missing namespace) will not fix themselves on a
   * retry; server and connection errors might.
   */
  private RuntimeException failure(String what, ApiException e) {
    String msg =
        what
            + " in namespace "
            + settings.namespace()
            + ": "
            + (e.getCode() == 0
                ? e.getMessage()
                : "HTTP " + e.getCode() + " " + e.getResponseBody());
    boolean permanent =
        e.getCode() >= 400 && e.getCode() < 500 && e.getCode() != 429 && e.getCode() != 409;
    return permanent
        ? ApplicationFailure.newNonRetryableFailure(msg, "KubernetesRequestRejected")
        : new IllegalStateException(msg, e);
  }
}
