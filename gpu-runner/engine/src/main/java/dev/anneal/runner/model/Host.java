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

  /**
   * A 0-dimensional array of {@code value} with {@code like}'s type, device and manager, whose
   * memory PyTorch owns. Use it instead of DJL's {@code mul(Number)}, {@code div(Number)} and
   * friends inside anything that is back-propagated: those wrap the number in a direct buffer
   * ({@code from_blob}) and close the wrapper at once, while autograd keeps the tensor for the
   * backward pass — after a garbage collection frees the buffer, the backward pass multiplies by
   * whatever the memory holds (the non-finite gradients that followed every checkpoint, whose large
   * allocations trigger collections).
   */
  /** {@code a}, now owned by {@code m} (an optimizer step's intermediate, freed with it). */
  public static NDArray attached(NDArray a, NDManager m) {
    a.attach(m);
    return a;
  }

  public static NDArray scalar(NDArray like, double value) {
    NDArray s = owned(like.getManager().create(new float[] {(float) value}, new Shape()));
    if (like.getDataType() != s.getDataType()) {
      NDArray cast = s.toType(like.getDataType(), false);
      s.close();
      s = cast;
    }
    if (!like.getDevice().equals(s.getDevice())) {
      NDArray moved = s.toDevice(like.getDevice(), false);
      s.close();
      s = moved;
    }
    return s;
  }

  public static NDArray floats(NDManager m, float[] data, Shape shape) {
    return owned(m.create(data, shape));
  }

  public static NDArray longs(NDManager m, long[] data, Shape shape) {
    return owned(m.create(data, shape));
  }
}
