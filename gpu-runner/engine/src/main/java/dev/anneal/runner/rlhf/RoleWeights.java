package dev.anneal.runner.rlhf;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.train.RewardObjective;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The starting weights of PPO's roles, checked once against the spec's model: the SFT policy's (for
 * the actor, the reference and the EMA) and the reward model's with its head (for the critic and
 * the frozen reward model). Each call hands out a fresh device copy.
 */
final class RoleWeights {
  private final NDManager root;
  private final Map<String, Shape> expected = new LinkedHashMap<>();
  private final Map<String, SafeTensors.HostTensor> policy;
  private final Map<String, SafeTensors.HostTensor> reward;

  RoleWeights(
      ModelShape shape,
      NDManager root,
      long seed,
      Map<String, SafeTensors.HostTensor> policy,
      Map<String, SafeTensors.HostTensor> reward) {
    this.root = root;
    this.policy = policy;
    this.reward = reward;
    if (!reward.containsKey(RewardObjective.HEAD)) {
      throw new CheckpointException(
          "rewardFrom: the checkpoint has no " + RewardObjective.HEAD + " (not a reward model)");
    }
    try (Params fresh = Params.init(shape, root, seed, DataType.FLOAT32)) {
      fresh.all().forEach((name, value) -> expected.put(name, value.getShape()));
    }
    check(policy, "initFrom");
    check(reward, "rewardFrom");
  }

  /** A device copy of the policy's weights. */
  Params policy() {
    return load(policy, false);
  }

  /** A device copy of the reward model's weights and its head. */
  Params rewardModel() {
    return load(reward, true);
  }

  /** Refuses weights that are not the spec's model: a missing tensor or another shape. */
  private void check(Map<String, SafeTensors.HostTensor> w, String what) {
    for (var e : expected.entrySet()) {
      SafeTensors.HostTensor t = w.get(e.getKey());
      if (t == null || !e.getValue().equals(new Shape(t.shape()))) {
        throw new CheckpointException(
            what
                + ": "
                + e.getKey()
                + (t == null
                    ? " is missing"
                    : " has shape "
                        + new Shape(t.shape())
                        + ", the spec's model needs "
                        + e.getValue())
                + " (a checkpoint of another model shape?)");
      }
    }
  }

  private Params load(Map<String, SafeTensors.HostTensor> w, boolean withHead) {
    Params p = Params.empty(root);
    for (String name : expected.keySet()) {
      SafeTensors.HostTensor t = w.get(name);
      p.put(name, Host.floats(root, t.data(), new Shape(t.shape())));
    }
    if (withHead) {
      SafeTensors.HostTensor h = w.get(RewardObjective.HEAD);
      p.put(RewardObjective.HEAD, Host.floats(root, h.data(), new Shape(h.shape())));
    }
    return p;
  }
}
