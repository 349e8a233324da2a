package dev.anneal.runner.ckpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.anneal.protocol.CheckpointManifest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint's tensors cloned on the device (a native copy, no trip through the JVM heap), so the
 * training loop can go on at once; {@link #toHost} — run by the checkpoint thread — copies them to
 * host memory and frees the clones.
 */
public final class DeviceSnapshot {
  private final long step;
  private final NDManager manager;
  private final Map<String, NDArray> model;
  private final Map<String, NDArray> optimizer;
  private final TrainerState state;
  private final String tokenizerJson;
  private final CheckpointManifest.Health health;
  private final Map<String, Map<String, NDArray>> extraTensors;
  private final Map<String, byte[]> extraFiles;

  /** With further safetensors files (by name, their arrays owned by {@code manager}) and files. */
  public DeviceSnapshot(
      long step,
      NDManager manager,
      Map<String, NDArray> model,
      Map<String, NDArray> optimizer,
      TrainerState state,
      String tokenizerJson,
      CheckpointManifest.Health health,
      Map<String, Map<String, NDArray>> extraTensors,
      Map<String, byte[]> extraFiles) {
    this.extraTensors = extraTensors;
    this.extraFiles = extraFiles;
    this.step = step;
    this.manager = manager;
    this.model = model;
    this.optimizer = optimizer;
    this.state = state;
    this.tokenizerJson = tokenizerJson;
    this.health = health;
  }

  /**
   * A native copy of {@code a} owned by {@code m}. (DJL's {@code toType(sameType, true)} returns
   * the array itself, not a copy.)
   */
  public static NDArray cloneOf(NDArray a, NDManager m) {
    // detached first: the copy is data for the checkpoint, not a node of the autograd graph
    NDArray view = a.stopGradient();
    NDArray c = view.duplicate();
    if (view != a) view.close();
    c.attach(m);
    return c;
  }

  public long step() {
    return step;
  }

  public CheckpointSnapshot toHost() {
    try {
      Map<String, Map<String, SafeTensors.HostTensor>> extra = new LinkedHashMap<>();
      extraTensors.forEach((file, arrays) -> extra.put(file, host(arrays)));
      return new CheckpointSnapshot(
          step, host(model), host(optimizer), state, tokenizerJson, health, extra, extraFiles);
    } finally {
      manager.close();
    }
  }

  /** Host copies of device arrays, by name (float32). */
  public static Map<String, SafeTensors.HostTensor> host(Map<String, NDArray> arrays) {
    Map<String, SafeTensors.HostTensor> out = new LinkedHashMap<>();
    arrays.forEach(
        (k, a) ->
            out.put(k, new SafeTensors.HostTensor(a.getShape().getShape(), a.toFloatArray())));
    return out;
  }
}
