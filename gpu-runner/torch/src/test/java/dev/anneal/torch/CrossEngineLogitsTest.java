package dev.anneal.torch;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.tokenizer.BpeTrainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two engines are one model: an {@code hf/} export of the built-in engine loaded by the
 * reference engine gives the same logits, and a model the reference engine initialised and wrote
 * gives the built-in engine the same logits (fp32, max |Δ| ≤ 1e-4; what differs is only the order
 * of float32 summation in the two builds of PyTorch, 2.7.1 under DJL and Debian's 1.13).
 */
class CrossEngineLogitsTest {

  static final double TOLERANCE = 1e-4;
  private static final long[][] IDS = {
    {5, 9, 13, 2, 7, 1, 250, 31, 64, 8, 8, 299}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
  };

  @TempDir Path dir;

  @Test
  void anExportOfTheBuiltInEngineGivesTheReferenceEngineItsLogits() throws Exception {
    Python.assumeTorch();
    // untied head, grouped KV heads: every tensor name of the layout is exercised
    ModelShape shape =
        ModelShape.of(new ModelConfig("micro", 32, 2, 4, 2, 2.0, 64, 300, false, "causal"));
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = Params.init(shape, m, 3, DataType.FLOAT32);
      Map<String, byte[]> files =
          HfFormat.export(
              shape,
              DeviceSnapshot.host(p.all()),
              BpeTrainer.train(
                  List.of("What is 3 + 4? 7"), 300, false, TokenizerSpec.DEFAULT_SPECIALS));
      Path hf = Files.createDirectories(dir.resolve("hf"));
      for (var f : files.entrySet()) Files.write(hf.resolve(f.getKey()), f.getValue());
      float[] java = javaLogits(m, shape, p);
      float[] torch = torchLogits(hf);
      double d = maxAbsDiff(java, torch);
      System.out.printf("built-in export → reference engine: max |Δ logit| %.3g%n", d);
      assertThat(d).isLessThanOrEqualTo(TOLERANCE);
    }
  }

  @Test
  void aModelTheReferenceEngineWroteGivesTheBuiltInEngineItsLogits() throws Exception {
    Python.assumeTorch();
    Path hf = dir.resolve("hf");
    Python.Result init =
        Python.run(
            120, "-m", "anneal_torch.hf", "init", hf.toString(), "{\"preset\":\"micro\"}", "5");
    assertThat(init.code()).as(init.output()).isZero();
    ModelShape shape = HfFormat.shape(Files.readAllBytes(hf.resolve("config.json")), hf.toString());
    assertThat(shape).isEqualTo(ModelShape.of(ModelConfig.preset("micro")));
    Map<String, SafeTensors.HostTensor> weights =
        SafeTensors.read(Files.readAllBytes(hf.resolve("model.safetensors")), "model.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = Params.empty(m);
      weights.forEach((k, t) -> p.put(k, Host.floats(m, t.data(), new Shape(t.shape()))));
      assertThat(p.all().keySet())
          .as("the reference engine writes the built-in engine's tensor names")
          .containsExactlyInAnyOrderElementsOf(
              Params.init(shape, m, 1, DataType.FLOAT32).all().keySet());
      float[] java = javaLogits(m, shape, p);
      float[] torch = torchLogits(hf);
      double d = maxAbsDiff(java, torch);
      System.out.printf("reference engine's model → built-in engine: max |Δ logit| %.3g%n", d);
      assertThat(d).isLessThanOrEqualTo(TOLERANCE);
    }
  }

  private static float[] javaLogits(NDManager m, ModelShape shape, Params p) {
    long[] flat = new long[IDS.length * IDS[0].length];
    for (int r = 0; r < IDS.length; r++)
      System.arraycopy(IDS[r], 0, flat, r * IDS[0].length, IDS[0].length);
    NDArray tokens = m.create(flat, new Shape(IDS.length, IDS[0].length));
    NDArray mask = Transformer.mask(m, IDS.length, IDS[0].length, null, DataType.FLOAT32);
    return new Transformer(shape).logits(p, tokens, mask).toFloatArray();
  }

  private float[] torchLogits(Path hf) throws Exception {
    StringBuilder json = new StringBuilder("[");
    for (int r = 0; r < IDS.length; r++) {
      if (r > 0) json.append(',');
      json.append(java.util.Arrays.toString(IDS[r]));
    }
    Path ids = Files.writeString(dir.resolve("ids.json"), json.append(']'), StandardCharsets.UTF_8);
    Path out = dir.resolve("logits.safetensors");
    Python.Result r =
        Python.run(
            120, "-m", "anneal_torch.hf", "logits", hf.toString(), ids.toString(), out.toString());
    assertThat(r.code()).as(r.output()).isZero();
    SafeTensors.HostTensor logits =
        SafeTensors.read(Files.readAllBytes(out), "logits.safetensors").get("logits");
    assertThat(logits.shape()).containsExactly(IDS.length, IDS[0].length, 300);
    return logits.data();
  }

  static double maxAbsDiff(float[] a, float[] b) {
    assertThat(b).hasSameSizeAs(a);
    double worst = 0;
    for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    return worst;
  }
}
