package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.Checks;
import java.util.List;
import java.util.Map;

/** What a stage's job asks of the cluster (the local launcher ignores GPUs and placement). */
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

  public static Resources defaults() {
    return new Resources(null, null, null, null, null, null, null, null);
  }
}
