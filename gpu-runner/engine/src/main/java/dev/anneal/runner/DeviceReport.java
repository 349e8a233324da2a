package dev.anneal.runner;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * What the runner can compute on: the DJL engine, its version, the device, and whether a real
 * matrix product through PyTorch agrees with a plain Java one.
 */
record DeviceReport(
    String engine,
    String version,
    String device,
    int gpus,
    double maxAbsError,
    boolean matmulCorrect) {

  static DeviceReport probe() {
    Engine engine = Engine.getEngine("PyTorch");
    Device device = engine.defaultDevice();
    int n = 64;
    float[] a = new float[n * n];
    float[] b = new float[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) Math.sin(i * 0.37);
      b[i] = (float) Math.cos(i * 0.11);
    }
    float[] product;
    try (NDManager manager = engine.newBaseManager(device)) {
      NDArray x = manager.create(a, new Shape(n, n));
      NDArray y = manager.create(b, new Shape(n, n));
      product = x.matMul(y).toDevice(Device.cpu(), false).toFloatArray();
    }
    double maxErr = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double expected = 0;
        for (int k = 0; k < n; k++) {
          expected += (double) a[i * n + k] * b[k * n + j];
        }
        maxErr = Math.max(maxErr, Math.abs(expected - product[i * n + j]));
      }
    }
    return new DeviceReport(
        engine.getEngineName(),
        engine.getVersion(),
        device.toString(),
        engine.getGpuCount(),
        maxErr,
        maxErr < 1e-3);
  }

  String describe() {
    return String.format(
        "engine %s %s, device %s, %d GPU(s); 64x64 matmul max |error| %.2e: %s",
        engine, version, device, gpus, maxAbsError, matmulCorrect ? "OK" : "WRONG");
  }
}
