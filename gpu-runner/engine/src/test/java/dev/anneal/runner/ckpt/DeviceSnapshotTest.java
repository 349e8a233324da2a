package dev.anneal.runner.ckpt;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.anneal.protocol.CheckpointManifest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An asynchronous checkpoint must hold the values of the moment it was taken. */
class DeviceSnapshotTest {

  @Test
  void clonesAreIndependentOfLaterUpdates() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.create(new float[] {1, 2, 3});
      NDManager snap = m.newSubManager();
      NDArray clone = DeviceSnapshot.cloneOf(w, snap);
      w.subi(1); // the training loop goes on
      DeviceSnapshot s =
          new DeviceSnapshot(
              7,
              snap,
              Map.of("w", clone),
              Map.of(),
              null,
              null,
              new CheckpointManifest.Health(null, null, null, null, null, null),
              Map.of(),
              Map.of());
      assertThat(s.toHost().model().get("w").data()).containsExactly(1, 2, 3);
      assertThat(w.toFloatArray()).containsExactly(0, 1, 2);
    }
  }
}
