package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.Checks;
import java.util.List;
import java.util.Map;

/**
 * What a stage's job asks of the cluster: {@code gpus} per pod, CPU and memory, placement. The
 * local launcher ignores GPUs and placement, but not the device they decide ({@link #device}).
 */
public record Resources(
    Integer gpus,
    String cpu,
    String memory,
    Map<String, String> nodeSelector,
    List<Toleration> tolerations,
    String priorityClass,
    String queue,
    Long timeoutSeconds) {

  public record Toleration(String key, String operator, String value, String effect) {
    public Toleration {
      operator = Checks.orDefault(operator, "Equal");
      if (!operator.equals("Equal") && !operator.equals("Exists")) {
        throw new IllegalArgumentException(
            "operator: must be Equal or Exists, got '" + operator + "'");
      }
    }
  }

  public Resources {
    gpus = Checks.orDefault(gpus, 0);
    Checks.nonNegative("gpus", gpus);
    cpu = Checks.orDefault(cpu, "2");
    memory = Checks.orDefault(memory, "4Gi");
    nodeSelector = nodeSelector == null ? Map.of() : Map.copyOf(nodeSelector);
    tolerations = tolerations == null ? List.of() : List.copyOf(tolerations);
    timeoutSeconds = Checks.orDefault(timeoutSeconds, 86_400L);
    if (timeoutSeconds <= 0) {
      throw new IllegalArgumentException("timeoutSeconds: must be > 0, got " + timeoutSeconds);
    }
    if (!memory.matches("[0-9]+(Ki|Mi|Gi|Ti|K|M|G|T)?")) {
      throw new IllegalArgumentException(
          "memory: must be a Kubernetes quantity such as 4Gi, got '" + memory + "'");
    }
    if (!cpu.matches("[0-9]+(\\.[0-9]+)?m?")) {
      throw new IllegalArgumentException(
          "cpu: must be a Kubernetes quantity such as 2 or 500m, got '" + cpu + "'");
    }
  }

  /** The CPU device. */
  public static final String CPU = "cpu";

  /** The GPU device, PyTorch's name for it. */
  public static final String CUDA = "cuda";

  /**
   * The device a stage trains on: {@code cuda} when it asks for GPUs, else {@code cpu}. Decided
   * here only: the RunSpec's device and the runner image of its Job both follow it.
   */
  public String device() {
    return gpus > 0 ? CUDA : CPU;
  }

  public static Resources defaults() {
    return new Resources(null, null, null, null, null, null, null, null);
  }
}
