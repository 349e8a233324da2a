package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * Updates parameters in place from their gradients. State tensors live in the optimizer's own
 * manager and are saved with every checkpoint, so a resumed run continues exactly.
 */
public interface Optimizer extends AutoCloseable {

  /**
   * One update. {@code gradScale} multiplies every gradient first (clipping, loss-scale undo).
   *
   * @param params name → parameter (fp32 masters)
   * @param grads name → gradient of the same shape
   */
  void step(Map<String, NDArray> params, Map<String, NDArray> grads, double lr, double gradScale);

  /** Number of updates made so far. */
  long steps();

  /** State tensors by name, for checkpoints ({@code <param>.<slot>}). */
  Map<String, NDArray> state();

  /** Restores state written by {@link #state()} and the update count. */
  void load(Map<String, NDArray> state, long steps);

  @Override
  void close();
}
