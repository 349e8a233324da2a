package dev.anneal.runner.ckpt;

import dev.anneal.protocol.CheckpointManifest;
import java.util.Map;

/**
 * Host copies of everything a checkpoint holds, taken between two training steps. A trainer with
 * more state than one model and its optimizer (PPO's critic, EMA, controller) adds further
 * safetensors files ({@code extraTensors}, by file name) and further files ({@code extraFiles}).
 */
public record CheckpointSnapshot(
    long step,
    Map<String, SafeTensors.HostTensor> model,
    Map<String, SafeTensors.HostTensor> optimizer,
    TrainerState state,
    String tokenizerJson,
    CheckpointManifest.Health health,
    Map<String, Map<String, SafeTensors.HostTensor>> extraTensors,
    Map<String, byte[]> extraFiles) {

  public CheckpointSnapshot {
    extraTensors = extraTensors == null ? Map.of() : extraTensors;
    extraFiles = extraFiles == null ? Map.of() : extraFiles;
  }

  public CheckpointSnapshot(
      long step,
      Map<String, SafeTensors.HostTensor> model,
      Map<String, SafeTensors.HostTensor> optimizer,
      TrainerState state,
      String tokenizerJson,
      CheckpointManifest.Health health) {
    this(step, model, optimizer, state, tokenizerJson, health, Map.of(), Map.of());
  }
}
