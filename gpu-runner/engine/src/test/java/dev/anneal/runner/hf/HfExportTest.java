package dev.anneal.runner.hf;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.protocol.ExportConfig;
import dev.anneal.runner.ckpt.ModelWeights;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exports as {@code save_pretrained} writes them: float32 or bfloat16, in shards with an index
 * above the shard size. A float32 export reloads with identical logits; a bfloat16 one holds each
 * weight rounded to the nearest bfloat16 — within 2^-8 of it, relatively (bfloat16 keeps 8
 * significant bits) — and gives logits within 2% of their scale (0.86% here).
 */
class HfExportTest {

  private static final long[] IDS = {5, 9, 13, 2, 7, 1, 40, 200, 3, 17};

  @TempDir Path tmp;

  @Test
  void aShardedFloat32ExportReloadsWithIdenticalLogits() throws Exception {
    HfFormat.Model m = model();
    Map<String, byte[]> files =
        HfFormat.export(
            m.shape(), m.weights(), m.tokenizer(), new ExportConfig(null, "20KB", null, null));
    assertThat(files).containsKey(ModelWeights.INDEX).doesNotContainKey(ModelWeights.SINGLE);
    assertThat(ModelWeights.shards(files.get(ModelWeights.INDEX), "x")).hasSizeGreaterThan(2);
    HfFormat.Model back = HfFormat.load(files, "export");
    assertThat(logits(back)).containsExactly(logits(m));
  }

  @Test
  void aBfloat16ExportRoundsEachWeightOnceAndKeepsTheLogitsClose() throws Exception {
    HfFormat.Model m = model();
    Map<String, byte[]> files =
        HfFormat.export(
            m.shape(), m.weights(), m.tokenizer(), new ExportConfig("bfloat16", null, null, null));
    assertThat(new ObjectMapper().readTree(files.get("config.json")).get("torch_dtype").asText())
        .isEqualTo("bfloat16");
    assertThat(files.get(ModelWeights.SINGLE).length)
        .as("half the bytes of float32")
        .isLessThan(
            HfFormat.export(m.shape(), m.weights(), m.tokenizer()).get(ModelWeights.SINGLE).length
                    / 2
                + 4096);
    HfFormat.Model back = HfFormat.load(files, "export");
    for (var e : m.weights().entrySet()) {
      float[] a = e.getValue().data();
      float[] b = back.weights().get(e.getKey()).data();
      for (int i = 0; i < a.length; i++) {
        assertThat(b[i]).isEqualTo(SafeTensors.bf16ToFloat(SafeTensors.floatToBf16(a[i])));
        assertThat((double) Math.abs(b[i] - a[i])).isLessThanOrEqualTo(Math.abs(a[i]) / 256.0);
      }
    }
    float[] exact = logits(m);
    float[] rounded = logits(back);
    double worst = 0;
    double scale = 0;
    for (int i = 0; i < exact.length; i++) {
      worst = Math.max(worst, Math.abs(exact[i] - rounded[i]));
      scale = Math.max(scale, Math.abs(exact[i]));
    }
    assertThat(worst).as("max |logit difference| of " + scale).isLessThan(0.02 * scale);
    assertThat(worst).isPositive();
  }

  /** A toy Qwen3 whose weights are float32 values, not bf16 ones already. */
  private HfFormat.Model model() throws Exception {
    HfFormat.Model bf =
        HfFormat.load(HfFixtures.files(HfFixtures.write(tmp.resolve("q"), "qwen3", 9)), "q");
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    Map<String, SafeTensors.HostTensor> w = new java.util.LinkedHashMap<>();
    bf.weights()
        .forEach(
            (k, t) -> {
              float[] d = t.data().clone();
              for (int i = 0; i < d.length; i++) d[i] *= (float) (1 + 0.003 * r.nextDouble(-1, 1));
              w.put(k, new SafeTensors.HostTensor(t.shape(), d));
            });
    return new HfFormat.Model(bf.shape(), w, bf.tokenizer());
  }

  private static float[] logits(HfFormat.Model model) {
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = Params.empty(m);
      model.weights().forEach((k, t) -> p.put(k, Host.floats(m, t.data(), new Shape(t.shape()))));
      NDArray tokens = m.create(IDS, new Shape(1, IDS.length));
      NDArray mask = Transformer.mask(m, 1, IDS.length, null, DataType.FLOAT32);
      return new Transformer(model.shape()).logits(p, tokens, mask).toFloatArray();
    }
  }
}
