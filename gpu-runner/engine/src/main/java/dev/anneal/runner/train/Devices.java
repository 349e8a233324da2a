package dev.anneal.runner.train;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** The spec's {@code device}: {@code cpu}, {@code cuda} or {@code cuda:N}. */
public final class Devices {
  private Devices() {}

  /** The device, or a clear error when PyTorch sees no such GPU. */
  public static Device of(String spec) {
    if (spec.equals("cpu")) return Device.cpu();
    int id = spec.contains(":") ? Integer.parseInt(spec.substring(spec.indexOf(':') + 1)) : 0;
    if (Engine.getEngine("PyTorch").getGpuCount() <= id) {
      throw new IllegalArgumentException(
          "device: "
              + spec
              + " was asked for but PyTorch sees "
              + Engine.getEngine("PyTorch").getGpuCount()
              + " GPU(s)"
              + (Engine.getEngine("PyTorch").getGpuCount() == 0
                  ? " (a stage that asks for GPUs runs the CUDA runner image,"
                      + " deploy/docker/runner-cuda.Dockerfile; this runner's PyTorch is a CPU build"
                      + " or finds no GPU)"
                  : ""));
    }
    return Device.gpu(id);
  }
}
