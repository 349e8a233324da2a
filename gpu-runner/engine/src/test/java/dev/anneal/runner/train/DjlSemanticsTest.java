package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
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
}
