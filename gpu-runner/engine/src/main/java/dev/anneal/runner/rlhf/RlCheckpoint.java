package dev.anneal.runner.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Params;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an RLHF checkpoint holds besides the usual model, optimizer and trainer state: the critic
 * ({@value #CRITIC}), the EMA ({@value #EMA}), and the RL state that is not tensors ({@value
 * #RL_STATE}). The prompt cursor and every sampling seed are functions of the step, so these files
 * are all a resumed run needs to reproduce the uninterrupted one.
 */
final class RlCheckpoint {
  private RlCheckpoint() {}

  static final String RL_STATE = "rl-state.json";
  static final String CRITIC = "critic.safetensors";
  static final String EMA = "ema.safetensors";

  /** The RL state that is not tensors. */
  record RlState(
      int formatVersion,
      double klCoef,
      long rewardCount,
      double rewardMean,
      double rewardM2,
      double firstLength,
      int shortInARow,
      double baselineReward,
      double baselineAccuracy,
      long criticSteps) {}

  static byte[] json(RlState rs) {
    try {
      return ProtocolJson.mapper().writeValueAsBytes(rs);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The RL state of a checkpoint; a clear error if it is not an RLHF checkpoint. */
  static RlState read(CheckpointReader.Loaded ckpt) {
    String at = ckpt.manifestKey();
    if (!ckpt.files().containsKey(RL_STATE)) {
      throw new CheckpointException(
          "resumeFrom: " + at + " is not an rlhf checkpoint (it has no " + RL_STATE + ")");
    }
    try {
      return ProtocolJson.mapper().readValue(ckpt.file(RL_STATE), RlState.class);
    } catch (IOException e) {
      throw new CheckpointException(RL_STATE + " of " + at + " is unreadable: " + e.getMessage());
    }
  }

  /** Native clones of {@code a} in {@code m}, their names prefixed. */
  static Map<String, NDArray> clones(Map<String, NDArray> a, NDManager m, String prefix) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    a.forEach((k, v) -> out.put(prefix + k, DeviceSnapshot.cloneOf(v, m)));
    return out;
  }

  /** A checkpoint file's weights into {@code p}, which must have the same names and shapes. */
  static void copyInto(Params p, CheckpointReader.Loaded ckpt, String file, NDManager root) {
    String at = ckpt.manifestKey();
    Map<String, SafeTensors.HostTensor> w = SafeTensors.read(ckpt.file(file), at + " " + file);
    if (!w.keySet().equals(p.all().keySet())) {
      throw new CheckpointException(at + " holds weights for another model shape");
    }
    for (var e : w.entrySet()) {
      Shape shape = p.get(e.getKey()).getShape();
      if (!shape.equals(new Shape(e.getValue().shape()))) {
        throw new CheckpointException(at + ": " + e.getKey() + " has another shape");
      }
      p.put(e.getKey(), Host.floats(root, e.getValue().data(), shape));
    }
  }

  /** The manifest's health block from the newest step's figures (finite ones only). */
  static CheckpointManifest.Health health(Map<String, Double> last) {
    Map<String, Double> finite = new LinkedHashMap<>();
    last.forEach(
        (k, v) -> {
          if (Double.isFinite(v)) finite.put(k, v);
        });
    return new CheckpointManifest.Health(
        finite.get("loss"), null, finite.get("grad_norm"), null, false, finite);
  }
}
