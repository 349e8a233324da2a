package dev.anneal.activities.launch;

import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.EngineSpec;
import dev.anneal.workflows.api.spec.Resources;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1EmptyDirVolumeSource;
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
    if (engine.kind() == EngineSpec.Kind.COMMAND) {
      if (engine.image() == null) {
        throw new IllegalArgumentException(
            "engine.image: a command engine on Kubernetes runs in the team's image, which the"
                + " stage names (an image with its program; the wrapper is copied in)");
      }
      return engine.image();
    }
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

  /** Where a command engine's pod finds the wrapper: copied from the runner image at start. */
  static final String TOOLS = "/opt/anneal-tools";

  static List<String> command(LaunchRequest r, KubernetesSettings k) {
    List<String> cmd = new ArrayList<>();
    boolean own = r.engine().kind() == EngineSpec.Kind.COMMAND;
    cmd.add(own ? TOOLS + "/jre/bin/java" : "java");
    cmd.addAll(k.jvmOptions());
    cmd.addAll(List.of("-jar", own ? TOOLS + "/anneal-runner.jar" : JobManifests.RUNNER_JAR));
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
    if (r.engine().kind() == EngineSpec.Kind.COMMAND) {
      m.add(new V1VolumeMount().name("tools").mountPath(TOOLS).readOnly(true));
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
    if (r.engine().kind() == EngineSpec.Kind.COMMAND) {
      v.add(new V1Volume().name("tools").emptyDir(new V1EmptyDirVolumeSource()));
    }
    return v;
  }

  /**
   * A command engine's pod starts with the runner image's JRE and jar copied into a volume, so the
   * wrapper runs in the team's image beside its program (the image needs glibc, as the JRE does).
   */
  static List<V1Container> initContainers(LaunchRequest r, KubernetesSettings k) {
    if (r.engine().kind() != EngineSpec.Kind.COMMAND) return null;
    return List.of(
        new V1Container()
            .name("anneal-tools")
            .image(k.image())
            .imagePullPolicy(k.imagePullPolicy())
            .command(
                List.of(
                    "sh",
                    "-c",
                    "cp -r \"$JAVA_HOME\" "
                        + TOOLS
                        + "/jre && cp "
                        + JobManifests.RUNNER_JAR
                        + " "
                        + TOOLS
                        + "/anneal-runner.jar"))
            .volumeMounts(List.of(new V1VolumeMount().name("tools").mountPath(TOOLS)))
            .securityContext(
                new V1SecurityContext()
                    .allowPrivilegeEscalation(false)
                    .readOnlyRootFilesystem(true)
                    .runAsNonRoot(true)));
  }
}
