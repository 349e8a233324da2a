package dev.anneal.activities.launch;

import dev.anneal.workflows.api.spec.Resources;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an operator sets for every training Job (the Helm chart's {@code training.*} values), under
 * what each stage asks for: the GPU resource name, node selector and tolerations (a stage's are
 * added; its node-selector keys win), priority class and Kueue queue (a stage's win), and the CPU
 * and memory of a stage that keeps the built-in 2 CPUs / 4Gi.
 */
public record JobDefaults(
    String gpuResourceName,
    Map<String, String> nodeSelector,
    List<Resources.Toleration> tolerations,
    String priorityClassName,
    String queue,
    String cpu,
    String memory) {

  static final String BUILT_IN_CPU = Resources.defaults().cpu();
  static final String BUILT_IN_MEMORY = Resources.defaults().memory();

  public JobDefaults {
    gpuResourceName = blank(gpuResourceName) ? JobManifests.GPU : gpuResourceName;
    nodeSelector = nodeSelector == null ? Map.of() : Map.copyOf(nodeSelector);
    tolerations = tolerations == null ? List.of() : List.copyOf(tolerations);
    priorityClassName = blank(priorityClassName) ? null : priorityClassName;
    queue = blank(queue) ? null : queue;
    cpu = blank(cpu) ? null : cpu;
    memory = blank(memory) ? null : memory;
  }

  public static JobDefaults none() {
    return new JobDefaults(null, null, null, null, null, null, null);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  /** A stage's resources with these defaults under them. */
  public Resources applyTo(Resources stage) {
    Map<String, String> selector = new LinkedHashMap<>(nodeSelector);
    selector.putAll(stage.nodeSelector());
    List<Resources.Toleration> tol = new ArrayList<>(tolerations);
    for (Resources.Toleration t : stage.tolerations()) if (!tol.contains(t)) tol.add(t);
    return new Resources(
        stage.gpus(),
        cpu != null && stage.cpu().equals(BUILT_IN_CPU) ? cpu : stage.cpu(),
        memory != null && stage.memory().equals(BUILT_IN_MEMORY) ? memory : stage.memory(),
        selector,
        tol,
        stage.priorityClass() != null ? stage.priorityClass() : priorityClassName,
        stage.queue() != null ? stage.queue() : queue,
        stage.timeoutSeconds());
  }
}
