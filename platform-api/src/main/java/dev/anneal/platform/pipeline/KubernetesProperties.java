package dev.anneal.platform.pipeline;

import dev.anneal.activities.launch.JobDefaults;
import dev.anneal.workflows.api.spec.Resources;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The Kubernetes launcher ({@code anneal.launcher=kubernetes}): where runner Jobs go and what they
 * run: {@code image} for stages on the CPU, {@code cudaImage} for stages that ask for GPUs, {@code
 * torchImage} and {@code torchCudaImage} for stages on the torch engine (unset: refused). {@code
 * eventsUrl} is how runner pods reach this platform's ingestion endpoint (its Service), e.g. {@code
 * http://anneal.anneal.svc:8080/internal/v1/events}. The client finds the cluster as {@code
 * kubectl} does: in-cluster service account, else {@code $KUBECONFIG} or {@code ~/.kube/config};
 * {@code apiServer} overrides both.
 */
@ConfigurationProperties("anneal.kubernetes")
public record KubernetesProperties(
    @DefaultValue("anneal") String namespace,
    String image,
    String cudaImage,
    String torchImage,
    String torchCudaImage,
    @DefaultValue("IfNotPresent") String imagePullPolicy,
    @DefaultValue("anneal-runner") String serviceAccount,
    @DefaultValue("anneal-s3") String s3Secret,
    @DefaultValue("") List<String> jvmOptions,
    @DefaultValue("86400") int ttlSecondsAfterFinished,
    @DefaultValue("300") int terminationGracePeriodSeconds,
    Map<String, String> labels,
    String eventsUrl,
    String apiServer,
    String gpuResourceName,
    Map<String, String> nodeSelector,
    List<Resources.Toleration> tolerations,
    String priorityClassName,
    String queue,
    String defaultCpu,
    String defaultMemory) {

  /** The operator's defaults under every stage's resources. */
  public JobDefaults jobDefaults() {
    return new JobDefaults(
        gpuResourceName,
        nodeSelector,
        tolerations,
        priorityClassName,
        queue,
        defaultCpu,
        defaultMemory);
  }
}
