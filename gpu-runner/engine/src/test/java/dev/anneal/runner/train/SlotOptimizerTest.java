package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Both optimizers' state as checkpoints hold it: named slots, one slot after the other; a restored
 * optimizer continues exactly as the saved one; a tensor no slot claims is refused by name.
 */
class SlotOptimizerTest {

  private static final Function<NDManager, Optimizer> ADAMW =
      m -> new AdamW(m, 0.9, 0.95, 1e-8, 0.1);
  private static final Function<NDManager, Optimizer> ADAFACTOR = m -> new Adafactor(m, 0.1);

  @Test
  void adamWSavesItsMomentsSlotBySlot() {
    try (NDManager m = NDManager.newBaseManager();
        Optimizer opt = ADAMW.apply(m)) {
      step(m, opt, params(m), 1);
      assertThat(opt.state().keySet())
          .containsExactly("w.exp_avg", "n.exp_avg", "w.exp_avg_sq", "n.exp_avg_sq");
      assertThat(opt.steps()).isEqualTo(1);
    }
  }

  @Test
  void adafactorKeepsMatricesFactoredAndVectorsWhole() {
    try (NDManager m = NDManager.newBaseManager();
        Optimizer opt = ADAFACTOR.apply(m)) {
      step(m, opt, params(m), 1);
      Map<String, NDArray> s = opt.state();
      assertThat(s.keySet()).containsExactly("w.row", "w.col", "n.v");
      assertThat(s.get("w.row").getShape()).isEqualTo(new Shape(2, 1));
      assertThat(s.get("w.col").getShape()).isEqualTo(new Shape(1, 2));
    }
  }

  @Test
  void aRestoredOptimizerContinuesExactlyAsTheSavedOne() {
    for (Function<NDManager, Optimizer> make : java.util.List.of(ADAMW, ADAFACTOR)) {
      try (NDManager m = NDManager.newBaseManager();
          Optimizer a = make.apply(m);
          Optimizer b = make.apply(m)) {
        Map<String, NDArray> pa = params(m);
        step(m, a, pa, 1);
        step(m, a, pa, 2);
        Map<String, NDArray> pb = new LinkedHashMap<>();
        pa.forEach((k, v) -> pb.put(k, v.duplicate()));
        b.load(a.state(), a.steps());
        assertThat(b.steps()).isEqualTo(2);
        step(m, a, pa, 3);
        step(m, b, pb, 3);
        for (String k : pa.keySet()) {
          assertThat(pb.get(k).toFloatArray()).containsExactly(pa.get(k).toFloatArray());
        }
      }
    }
  }

  @Test
  void aTensorNoSlotClaimsIsRefusedByName() {
    try (NDManager m = NDManager.newBaseManager();
        Optimizer adamw = ADAMW.apply(m);
        Optimizer adafactor = ADAFACTOR.apply(m)) {
      Map<String, NDArray> foreign = Map.of("w.momentum", m.zeros(new Shape(2, 2)));
      assertThatThrownBy(() -> adamw.load(foreign, 3))
          .hasMessageContaining("optimizer state: unexpected tensor w.momentum")
          .hasMessageContaining("exp_avg");
      // Adafactor's state read by AdamW (a spec that changed optimizer) names the tensor
      assertThatThrownBy(() -> adamw.load(Map.of("w.row", m.zeros(new Shape(2, 1))), 3))
          .hasMessageContaining("unexpected tensor w.row");
      assertThatThrownBy(() -> adafactor.load(Map.of("noslot", m.zeros(new Shape(1))), 3))
          .hasMessageContaining("unexpected tensor noslot");
    }
  }

  private static Map<String, NDArray> params(NDManager m) {
    Map<String, NDArray> p = new LinkedHashMap<>();
    p.put("w", m.create(new float[] {0.5f, -1f, 2f, 0.25f}, new Shape(2, 2)));
    p.put("n", m.create(new float[] {1f, 2f}));
    return p;
  }

  private static void step(NDManager m, Optimizer opt, Map<String, NDArray> params, int t) {
    Map<String, NDArray> grads = new LinkedHashMap<>();
    grads.put("w", m.create(new float[] {0.1f * t, -0.2f, 0.3f, -0.05f * t}, new Shape(2, 2)));
    grads.put("n", m.create(new float[] {0.7f, -0.1f * t}));
    opt.step(params, grads, 0.01, 1.0);
  }
}
