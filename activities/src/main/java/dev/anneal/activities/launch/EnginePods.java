package dev.anneal.activities.launch;

import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.EngineSpec;
import dev.anneal.workflows.api.spec.Resources;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1EmptyDirVolumeSource;
import io.kubernetes.client.openapi.models.V1EnvVar;
import io.kubernetes.client.openapi.models.V1ResourceRequirements;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V1VolumeMount;
import java.util.ArrayList;
import java.util.List;

/**
 * What a stage's engine decides in its runner pod: the image (by device and engine), the command
 * (the built-in engine, or the wrapper over the engine's ranks), and the volumes the ranks need.
 */
final class EnginePods {
  private EnginePods() {}

  /**
   * The runner image for the stage's device and engine: the CUDA build when it asks for GPUs, one
   * with Python and PyTorch for the torch engine (refused, naming the chart's value, when the
   * operator has not set one).
   */
  static String image(Resources res, EngineSpec engine, KubernetesSettings k) {
    boolean cuda = Resources.CUDA.equals(res.device());
    if (engine.kind() == EngineSpec.Kind.BUILTIN) return cuda ? k.cudaImage() : k.image();
    // a command engine's wrapper runs in the runner image; the team's image is the engine container
    if (engine.kind() == EngineSpec.Kind.COMMAND) return k.image();
    String image = cuda ? k.torchCudaImage() : k.torchImage();
    if (image == null) {
      throw new IllegalArgumentException(
          "engine: torch: this platform has no runner image for the torch engine"
              + (cuda ? " on GPUs" : " on CPUs")
              + "; the operator sets the chart's training.runner."
              + (cuda ? "torchCudaImage" : "torchImage")
              + " to an image with the runner jar, Python 3 and PyTorch (docs/engines.md)");
    }
    return image;
  }

  /** Where a command engine's wrapper and its engine container share their work. */
  static final String WORK = "/work";

  static List<String> command(LaunchRequest r, KubernetesSettings k) {
    List<String> cmd = new ArrayList<>();
    cmd.add("java");
    cmd.addAll(k.jvmOptions());
    cmd.addAll(List.of("-jar", JobManifests.RUNNER_JAR));
    cmd.addAll(
        RunnerArgs.of(
            r,
            GangManifests.isGang(r) ? GangManifests.master(r, k) : null,
            sidecar(r) ? WORK : null));
    return cmd;
  }

  /** Whether the stage's ranks run in an engine container of their own: a team's program. */
  static boolean sidecar(LaunchRequest r) {
    return r.engine().kind() == EngineSpec.Kind.COMMAND;
  }

  /** Scratch and /tmp; and for the torch engine's ranks a memory-backed /dev/shm (NCCL, gloo). */
  static List<V1VolumeMount> mounts(LaunchRequest r) {
    List<V1VolumeMount> m = new ArrayList<>();
    m.add(new V1VolumeMount().name("scratch").mountPath(JobManifests.SCRATCH));
    m.add(new V1VolumeMount().name("tmp").mountPath("/tmp"));
    if (r.engine().kind() != EngineSpec.Kind.BUILTIN) {
      m.add(new V1VolumeMount().name("dshm").mountPath("/dev/shm"));
    }
    if (sidecar(r)) m.add(new V1VolumeMount().name("work").mountPath(WORK));
    return m;
  }

  static List<V1Volume> volumes(LaunchRequest r) {
    List<V1Volume> v = new ArrayList<>();
    v.add(new V1Volume().name("scratch").emptyDir(new V1EmptyDirVolumeSource()));
    v.add(new V1Volume().name("tmp").emptyDir(new V1EmptyDirVolumeSource()));
    if (r.engine().kind() != EngineSpec.Kind.BUILTIN) {
      v.add(new V1Volume().name("dshm").emptyDir(new V1EmptyDirVolumeSource().medium("Memory")));
    }
    if (sidecar(r)) v.add(new V1Volume().name("work").emptyDir(new V1EmptyDirVolumeSource()));
    return v;
  }

  /**
   * A team's program runs in a container of its own, its image the stage's: it shares the work
   * volume (and /dev/shm, /tmp) with the wrapper's container, never its credentials; it waits for
   * the wrapper's launch script and runs this node's ranks (SidecarRanks in the runner). It holds
   * the stage's resources, GPUs included; the wrapper's container a small fixed share.
   */
  static V1Container engineContainer(
      LaunchRequest r, KubernetesSettings k, V1ResourceRequirements resources) {
    if (!sidecar(r)) return null;
    if (r.engine().image() == null) {
      throw new IllegalArgumentException(
          "engine.image: a command engine on Kubernetes runs in the team's image, which the stage"
              + " names (an image with its program and a POSIX sh)");
    }
    return new V1Container()
        .name("engine")
        .image(r.engine().image())
        .imagePullPolicy(k.imagePullPolicy())
        .command(dev.anneal.protocol.ExecSidecar.entrypoint(WORK + "/exec"))
        .workingDir(WORK)
        .env(List.of(new V1EnvVar().name("HOME").value(WORK)))
        .resources(resources)
        .volumeMounts(
            List.of(
                new V1VolumeMount().name("work").mountPath(WORK),
                new V1VolumeMount().name("dshm").mountPath("/dev/shm"),
                new V1VolumeMount().name("tmp").mountPath("/tmp")))
        .securityContext(
            new V1SecurityContext()
                .allowPrivilegeEscalation(false)
                .readOnlyRootFilesystem(true)
                .runAsNonRoot(true));
  }

  /** The wrapper's share of a pod whose engine container holds the stage's resources. */
  static final Resources WRAPPER = new Resources(0, "1", "2Gi", null, null, null, null, null);
}
