package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import dev.anneal.runner.model.Host;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pins down the DJL/PyTorch behaviour the optimizers rely on. */
class DjlSemanticsTest {

  @Test
  void gradientsAccumulateAndCanBeZeroedEvenWhenNaN() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.create(new float[] {1, 2, 3});
      w.setRequiresGradient(true);
      for (int i = 0; i < 2; i++) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.backward(w.mul(2).sum());
        }
      }
      assertThat(w.getGradient().toFloatArray()).containsExactly(4, 4, 4);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(w.mul(Float.NaN).sum());
      }
      w.getGradient().set(new NDIndex(":"), 0);
      assertThat(w.getGradient().toFloatArray()).containsExactly(0, 0, 0);
      // in-place update of a leaf outside the collector
      w.subi(w.mul(0.5f));
      assertThat(w.toFloatArray()).containsExactly(0.5f, 1f, 1.5f);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(w.square().sum());
      }
      assertThat(w.getGradient().toFloatArray()).containsExactly(1f, 2f, 3f);
    }
  }

  /**
   * DJL's {@code mul(Number)} wraps the number in a direct buffer and closes the wrapper at once,
   * while autograd keeps the tensor for the backward pass; a garbage collection between the two can
   * free the buffer. The model multiplies by scalars through {@link Host#scalar}, whose memory
   * PyTorch owns: under collections and fresh allocations between forward and backward (what a
   * checkpoint write does), the gradients stay those of an undisturbed pass.
   */
  @Test
  void scalarsInTheGraphSurviveGarbageCollectionBeforeBackward() {
    try (NDManager m = NDManager.newBaseManager()) {
      float[] quiet = gradient(m, false);
      for (int round = 0; round < 5; round++) {
        assertThat(gradient(m, true)).as("round %d", round).containsExactly(quiet);
      }
    }
  }

  private static float[] gradient(NDManager parent, boolean pressure) {
    try (NDManager m = parent.newSubManager()) {
      NDArray w = Host.floats(m, new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(4));
      w.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray y = w.div(Host.scalar(w, Math.sqrt(8))).mul(Host.scalar(w, 3.0)).square().sum();
        if (pressure) {
          List<ByteBuffer> junk = new ArrayList<>();
          for (int k = 0; k < 3; k++) {
            System.gc();
            for (int i = 0; i < 2000; i++) {
              ByteBuffer b = ByteBuffer.allocateDirect(4);
              b.putFloat(0, Float.NaN);
              junk.add(b);
            }
          }
        }
        gc.backward(y);
      }
      return w.getGradient().toFloatArray();
    }
  }
}
