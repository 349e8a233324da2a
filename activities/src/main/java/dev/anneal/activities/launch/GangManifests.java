package dev.anneal.activities.launch;

import dev.anneal.workflows.api.jobs.LaunchRequest;
import io.kubernetes.client.openapi.models.V1JobSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1ServiceSpec;
import java.util.List;
import java.util.Map;

/**
 * A stage on several nodes as one gang: an Indexed Job of {@code nodes} pods that start and end
 * together ({@code completions = parallelism = nodes}; one pod failing fails the Job, and Kueue
 * admits all of them or none), each pod's index its node rank ({@code JOB_COMPLETION_INDEX}), and a
 * headless Service of the Job's name that gives pod 0, the rendezvous master, a stable DNS name:
 * {@code <job>-0.<job>.<namespace>.svc}.
 */
final class GangManifests {
  private GangManifests() {}

  /** The port the master rank listens on (torchrun's default). */
  static final int PORT = 29500;

  static boolean isGang(LaunchRequest r) {
    return r.engine().nodes() > 1;
  }

  /** The master's address, HOST:PORT, as every node's wrapper is told it. */
  static String master(LaunchRequest r, KubernetesSettings k) {
    return r.jobName() + "-0." + r.jobName() + "." + k.namespace() + ".svc:" + PORT;
  }

  /** Makes the Job Indexed, one pod a node, the pods named under the Service. */
  static void indexed(LaunchRequest r, V1JobSpec job, V1PodSpec pod) {
    int nodes = r.engine().nodes();
    job.completionMode("Indexed").completions(nodes).parallelism(nodes);
    pod.subdomain(r.jobName());
  }

  /** The headless Service: DNS for the pods, whether or not they are ready yet. */
  static V1Service service(LaunchRequest r, KubernetesSettings k, Map<String, String> labels) {
    return new V1Service()
        .apiVersion("v1")
        .kind("Service")
        .metadata(new V1ObjectMeta().name(r.jobName()).namespace(k.namespace()).labels(labels))
        .spec(
            new V1ServiceSpec()
                .clusterIP("None")
                .publishNotReadyAddresses(true)
                .selector(Map.of(JobManifests.LABEL_JOB, r.jobName()))
                .ports(List.of(new V1ServicePort().name("rendezvous").port(PORT))));
  }
}
