package dev.anneal.activities.launch;

import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.EngineSpec;
import dev.anneal.workflows.api.spec.Resources;
import io.kubernetes.client.openapi.models.V1EmptyDirVolumeSource;
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

  static List<String> command(LaunchRequest r, KubernetesSettings k) {
    List<String> cmd = new ArrayList<>();
    cmd.add("java");
    cmd.addAll(k.jvmOptions());
    cmd.addAll(List.of("-jar", JobManifests.RUNNER_JAR));
    cmd.addAll(RunnerArgs.of(r, GangManifests.isGang(r) ? GangManifests.master(r, k) : null));
    return cmd;
  }

  /** Scratch and /tmp; and for the torch engine's ranks a memory-backed /dev/shm (NCCL, gloo). */
  static List<V1VolumeMount> mounts(LaunchRequest r) {
    List<V1VolumeMount> m = new ArrayList<>();
    m.add(new V1VolumeMount().name("scratch").mountPath(JobManifests.SCRATCH));
    m.add(new V1VolumeMount().name("tmp").mountPath("/tmp"));
    if (r.engine().kind() != EngineSpec.Kind.BUILTIN) {
      m.add(new V1VolumeMount().name("dshm").mountPath("/dev/shm"));
    }
    return m;
  }

  static List<V1Volume> volumes(LaunchRequest r) {
    List<V1Volume> v = new ArrayList<>();
    v.add(new V1Volume().name("scratch").emptyDir(new V1EmptyDirVolumeSource()));
    v.add(new V1Volume().name("tmp").emptyDir(new V1EmptyDirVolumeSource()));
    if (r.engine().kind() != EngineSpec.Kind.BUILTIN) {
      v.add(new V1Volume().name("dshm").emptyDir(new V1EmptyDirVolumeSource().medium("Memory")));
    }
    return v;
  }
}
