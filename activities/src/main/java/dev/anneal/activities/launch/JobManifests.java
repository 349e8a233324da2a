package dev.anneal.activities.launch;

import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.Resources;
import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1EnvVarSource;
import io.kubernetes.client.openapi.models.V1Job;
import io.kubernetes.client.openapi.models.V1JobSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1PodFailurePolicy;
import io.kubernetes.client.openapi.models.V1PodFailurePolicyOnExitCodesRequirement;
import io.kubernetes.client.openapi.models.V1PodFailurePolicyOnPodConditionsPattern;
import io.kubernetes.client.openapi.models.V1PodFailurePolicyRule;
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1ResourceRequirements;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1SecretKeySelector;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1Toleration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The Kubernetes objects of one stage attempt, made by pure functions (no API calls) so that they
 * can be checked against golden files: a {@code batch/v1} Job running the runner image, and a
 * Secret with the attempt's event token.
 *
 * <p>The Job never retries by itself ({@code backoffLimit: 0}, {@code restartPolicy: Never}):
 * Anneal's stage workflow owns retries, because a retry is a new attempt (a new RunSpec resuming
 * from the newest checkpoint, a new token, new checkpoint names). The pod failure policy makes the
 * Job's failure say <em>why</em>: a disruption (eviction, preemption, node drain) and an exit code
 * that retrying cannot fix (invalid spec, missing input) each end the Job through their own rule,
 * which the launcher reads back.
 */
public final class JobManifests {

  public static final String CONTAINER = "runner";
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String LABEL_COMPONENT = "app.kubernetes.io/component";
  public static final String LABEL_TEAM = "anneal.dev/team";
  public static final String LABEL_PIPELINE = "anneal.dev/pipeline";
  public static final String LABEL_STAGE = "anneal.dev/stage";
  public static final String LABEL_ATTEMPT = "anneal.dev/attempt";
  public static final String LABEL_JOB = "anneal.dev/job";
  public static final String KUEUE_QUEUE = "kueue.x-k8s.io/queue-name";
  public static final String GPU = "nvidia.com/gpu";
  public static final String TOKEN_KEY = "token";
  static final String SCRATCH = "/scratch";
  static final String RUNNER_JAR = "/opt/anneal/anneal-runner.jar";

  /** Environment entries that never appear in a Job: they come from Secrets. */
  private static final Set<String> SECRET_ENV =
      Set.of(
          ObjectStoreTarget.ACCESS_KEY_ENV, ObjectStoreTarget.SECRET_KEY_ENV, EventSink.TOKEN_ENV);

  private JobManifests() {}

  public static String tokenSecretName(String jobName) {
    return jobName + "-token";
  }

  /** Labels that find every object of one attempt (and, by a subset, of a pipeline or team). */
  public static Map<String, String> labels(LaunchRequest r, KubernetesSettings k) {
    Map<String, String> labels = new LinkedHashMap<>(new TreeMap<>(k.labels()));
    labels.put(LABEL_MANAGED_BY, "anneal");
    labels.put(LABEL_COMPONENT, "runner");
    labels.put(LABEL_TEAM, labelValue(r.team()));
    labels.put(LABEL_PIPELINE, labelValue(r.pipeline()));
    labels.put(LABEL_STAGE, r.stage().id());
    labels.put(LABEL_ATTEMPT, Integer.toString(r.attempt()));
    labels.put(LABEL_JOB, r.jobName());
    return labels;
  }

  public static V1Secret tokenSecret(LaunchRequest r, KubernetesSettings k) {
    String token = r.env().get(EventSink.TOKEN_ENV);
    if (token == null) {
      throw new IllegalArgumentException(
          "env: the launch request for " + r.jobName() + " has no " + EventSink.TOKEN_ENV);
    }
    return new V1Secret()
        .apiVersion("v1")
        .kind("Secret")
        .metadata(
            new V1ObjectMeta()
                .name(tokenSecretName(r.jobName()))
                .namespace(k.namespace())
                .labels(labels(r, k)))
        .type("Opaque")
        .stringData(Map.of(TOKEN_KEY, token));
  }

  /** Ties the token Secret to its Job, so that Kubernetes deletes it with the Job. */
  public static V1OwnerReference ownedBy(V1Job job) {
    return new V1OwnerReference()
        .apiVersion("batch/v1")
        .kind("Job")
        .name(job.getMetadata().getName())
        .uid(job.getMetadata().getUid())
        .controller(false)
        .blockOwnerDeletion(false);
  }

  public static V1Job job(LaunchRequest r, KubernetesSettings k) {
    Resources res = k.defaults().applyTo(r.resources());
    Map<String, String> labels = labels(r, k);
    if (res.queue() != null) {
      labels.put(KUEUE_QUEUE, res.queue());
    }
    V1Container runner =
        new V1Container()
            .name(CONTAINER)
            .image(EnginePods.image(res, r.engine(), k))
            .imagePullPolicy(k.imagePullPolicy())
            .command(EnginePods.command(r, k))
            .workingDir(SCRATCH)
            .env(env(r, k))
            .resources(
                resources(
                    EnginePods.sidecar(r) ? EnginePods.WRAPPER : res,
                    k.defaults().gpuResourceName()))
            .volumeMounts(EnginePods.mounts(r))
            .securityContext(
                new V1SecurityContext()
                    .allowPrivilegeEscalation(false)
                    .readOnlyRootFilesystem(true)
                    .runAsNonRoot(true));
    V1PodSpec pod =
        new V1PodSpec()
            .restartPolicy("Never")
            .serviceAccountName(k.serviceAccount())
            .automountServiceAccountToken(false)
            .terminationGracePeriodSeconds((long) k.terminationGracePeriodSeconds())
            .priorityClassName(res.priorityClass())
            .nodeSelector(res.nodeSelector().isEmpty() ? null : new TreeMap<>(res.nodeSelector()))
            .tolerations(res.tolerations().isEmpty() ? null : tolerations(res))
            .securityContext(new V1PodSecurityContext().runAsNonRoot(true).fsGroup(1000L))
            .containers(
                containers(
                    runner,
                    EnginePods.engineContainer(
                        r, k, resources(res, k.defaults().gpuResourceName()))))
            .volumes(EnginePods.volumes(r));
    V1JobSpec spec =
        new V1JobSpec()
            .backoffLimit(0)
            .activeDeadlineSeconds(res.timeoutSeconds())
            .ttlSecondsAfterFinished(k.ttlSecondsAfterFinished())
            .podFailurePolicy(podFailurePolicy())
            .template(
                new V1PodTemplateSpec()
                    .metadata(new V1ObjectMeta().labels(labels(r, k)))
                    .spec(pod));
    if (GangManifests.isGang(r)) GangManifests.indexed(r, spec, pod);
    return new V1Job()
        .apiVersion("batch/v1")
        .kind("Job")
        .metadata(new V1ObjectMeta().name(r.jobName()).namespace(k.namespace()).labels(labels))
        .spec(spec);
  }

  static V1PodFailurePolicy podFailurePolicy() {
    return new V1PodFailurePolicy()
        .rules(
            List.of(
                // evicted, preempted, drained: not the runner's fault; Anneal restarts the stage
                // from the checkpoint the runner committed on SIGTERM
                new V1PodFailurePolicyRule()
                    .action("FailJob")
                    .onPodConditions(
                        List.of(
                            new V1PodFailurePolicyOnPodConditionsPattern()
                                .type("DisruptionTarget")
                                .status("True"))),
                // bad input: no retry can help, a person must fix the spec or data
                new V1PodFailurePolicyRule()
                    .action("FailJob")
                    .onExitCodes(
                        new V1PodFailurePolicyOnExitCodesRequirement()
                            .containerName(CONTAINER)
                            .operator("In")
                            .values(
                                List.of(
                                    ExitCode.INVALID_SPEC.code(),
                                    ExitCode.INPUT_MISSING.code())))));
  }

  private static List<V1EnvVar> env(LaunchRequest r, KubernetesSettings k) {
    List<V1EnvVar> env = new ArrayList<>();
    new TreeMap<>(r.env())
        .forEach(
            (name, value) -> {
              if (!SECRET_ENV.contains(name)) {
                env.add(new V1EnvVar().name(name).value(value));
              }
            });
    env.add(
        fromSecret(
            ObjectStoreTarget.ACCESS_KEY_ENV, k.s3Secret(), KubernetesSettings.S3_ACCESS_KEY));
    env.add(
        fromSecret(
            ObjectStoreTarget.SECRET_KEY_ENV, k.s3Secret(), KubernetesSettings.S3_SECRET_KEY));
    env.add(fromSecret(EventSink.TOKEN_ENV, tokenSecretName(r.jobName()), TOKEN_KEY));
    // the runner writes its event spool and native-library cache to the scratch volume
    env.add(new V1EnvVar().name("HOME").value(SCRATCH));
    env.add(new V1EnvVar().name("DJL_CACHE_DIR").value(SCRATCH + "/djl"));
    return env;
  }

  private static V1EnvVar fromSecret(String env, String secret, String key) {
    return new V1EnvVar()
        .name(env)
        .valueFrom(
            new V1EnvVarSource().secretKeyRef(new V1SecretKeySelector().name(secret).key(key)));
  }

  private static List<V1Container> containers(V1Container runner, V1Container engine) {
    return engine == null ? List.of(runner) : List.of(runner, engine);
  }

  private static V1ResourceRequirements resources(Resources res, String gpu) {
    Map<String, Quantity> requests = new TreeMap<>();
    Map<String, Quantity> limits = new TreeMap<>();
    requests.put("cpu", Quantity.fromString(res.cpu()));
    requests.put("memory", Quantity.fromString(res.memory()));
    limits.put("memory", Quantity.fromString(res.memory()));
    if (res.gpus() > 0) {
      // extended resources: the request must equal the limit
      requests.put(gpu, new Quantity(Integer.toString(res.gpus())));
      limits.put(gpu, new Quantity(Integer.toString(res.gpus())));
    }
    return new V1ResourceRequirements().requests(requests).limits(limits);
  }

  private static List<V1Toleration> tolerations(Resources res) {
    return res.tolerations().stream()
        .map(
            t ->
                new V1Toleration()
                    .key(t.key())
                    .operator(t.operator())
                    .value(t.value())
                    .effect(t.effect()))
        .toList();
  }

  /** A valid label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
  static String labelValue(String s) {
    String v = s.replaceAll("[^A-Za-z0-9._-]", "-");
    if (v.length() > 63) {
      v = v.substring(0, 63);
    }
    return v.replaceAll("^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "");
  }
}
