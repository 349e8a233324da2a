package dev.anneal.runner.ckpt;

import dev.anneal.protocol.CheckpointManifest;
import java.util.Map;

/** Host copies of everything a checkpoint holds, taken between two training steps. */
public record CheckpointSnapshot(
    long step,
    Map<String, SafeTensors.HostTensor> model,
    Map<String, SafeTensors.HostTensor> optimizer,
    TrainerState state,
    String tokenizerJson,
    CheckpointManifest.Health health) {}
