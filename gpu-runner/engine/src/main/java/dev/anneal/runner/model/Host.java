package dev.anneal.runner.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Arrays made from Java data. DJL's PyTorch engine wraps a direct buffer without copying it ({@code
 * from_blob}) and keeps the buffer alive only through the Java wrapper; a native reference that
 * outlives the wrapper then reads freed memory. These helpers return arrays whose memory PyTorch
 * owns (one native copy, then the wrapper of the Java buffer is closed).
 */
public final class Host {
  private Host() {}

  public static NDArray owned(NDArray fromJava) {
    NDArray copy = fromJava.duplicate();
    fromJava.close();
    return copy;
  }

  public static NDArray floats(NDManager m, float[] data, Shape shape) {
    return owned(m.create(data, shape));
  }

  public static NDArray longs(NDManager m, long[] data, Shape shape) {
    return owned(m.create(data, shape));
  }
}
