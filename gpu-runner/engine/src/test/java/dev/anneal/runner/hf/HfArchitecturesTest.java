package dev.anneal.runner.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.ModelWeights;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.KvCache;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The LLaMA family imported from the Hugging Face layout: each member's logits against an
 * independent numpy implementation written from the architectures' definitions ({@code
 * hf/hf_reference.py}), the KV-cache path against the full forward, and an export that reloads with
 * the same logits.
 */
class HfArchitecturesTest {

  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final long[] IDS = {5, 9, 13, 2, 7, 1, 40, 200, 3, 17, 11, 300};

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
  void importedWeightsGiveTheLogitsOfAnIndependentImplementation(String family) throws Exception {
    Path dir = HfFixtures.write(tmp.resolve(family), family, 7);
    Map<String, byte[]> files = HfFixtures.files(dir);
    assertThat(files).containsKey(ModelWeights.INDEX); // sharded, as the fixture means
    HfFormat.Model model = HfFormat.load(files, dir.toString());
    ModelShape s = model.shape();
    assertThat(s.arch().family()).isEqualTo(family);
    assertThat(s.arch().qkNorm()).isEqualTo(family.equals("qwen3"));
    assertThat(s.arch().qkvBias()).isEqualTo(family.equals("qwen2"));
    assertThat(s.arch().ropeScaling() != null).isEqualTo(family.equals("llama"));
    assertThat(s.headDim()).isEqualTo(family.equals("qwen3") ? 16 : 8);
    assertThat(model.weights().keySet()).isEqualTo(HfFixtures.tensors(family).keySet());

    float[] ours = logits(model, IDS);
    double[][] theirs = reference(dir, IDS);
    double worst = 0;
    double scale = 0;
    for (int t = 0; t < IDS.length; t++) {
      for (int v = 0; v < HfFixtures.VOCAB; v++) {
        double a = ours[t * HfFixtures.VOCAB + v];
        worst = Math.max(worst, Math.abs(a - theirs[t][v]));
        scale = Math.max(scale, Math.abs(theirs[t][v]));
      }
    }
    // float32 against float64 on the same bf16 weights: rounding only
    assertThat(scale).isGreaterThan(0.5);
    assertThat(worst).as("max |logit difference| of " + scale).isLessThan(1e-4 * scale + 1e-5);
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2", "qwen3"})
  void theKvCachePathGivesTheFullForwardsLogits(String family) throws Exception {
    HfFormat.Model model =
        HfFormat.load(HfFixtures.files(HfFixtures.write(tmp.resolve(family), family, 3)), family);
    float[] full = logits(model, IDS);
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = params(m, model);
      Transformer tf = new Transformer(model.shape());
      KvCache cache = new KvCache(model.shape().nLayers(), m, IDS.length);
      int v = HfFixtures.VOCAB;
      for (int t = 0; t < IDS.length; t++) {
        NDArray tok = m.create(new long[] {IDS[t]}, new Shape(1, 1));
        NDArray mask = m.zeros(new Shape(1, 1, 1, t + 1));
        float[] step = tf.logitsAt(p, tok, new long[][] {{t}}, mask, cache).toFloatArray();
        for (int j = 0; j < v; j++) {
          assertThat(step[j])
              .isCloseTo(full[t * v + j], org.assertj.core.data.Offset.offset(2e-5f));
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
  void anExportReloadsAsTheSameModelWithTheSameLogits(String family) throws Exception {
    HfFormat.Model model =
        HfFormat.load(HfFixtures.files(HfFixtures.write(tmp.resolve(family), family, 5)), family);
    Map<String, byte[]> exported =
        HfFormat.export(model.shape(), model.weights(), model.tokenizer());
    JsonNode config = new ObjectMapper().readTree(exported.get("config.json"));
    assertThat(config.get("model_type").asText()).isEqualTo(family);
    HfFormat.Model back = HfFormat.load(exported, "export");
    assertThat(back.shape()).isEqualTo(model.shape());
    assertThat(logits(back, IDS)).containsExactly(logits(model, IDS));
  }

  @Test
  void unsupportedArchitecturesAndFieldsAreRefusedWithTheField() {
    assertThatThrownBy(() -> shapeWith("qwen3", c -> c.put("model_type", "gpt_neox")))
        .hasMessage(
            "/m/config.json: model_type 'gpt_neox' is not supported (llama, mistral, qwen2,"
                + " qwen3)");
    assertThatThrownBy(() -> shapeWith("mistral", c -> c.put("sliding_window", 4096)))
        .hasMessageStartingWith("/m/config.json: sliding_window 4096 (below")
        .hasMessageContaining("not implemented");
    assertThatThrownBy(
            () ->
                shapeWith(
                    "qwen2", c -> c.put("use_sliding_window", true).put("sliding_window", 4096)))
        .hasMessageStartingWith("/m/config.json: sliding_window 4096");
    assertThatThrownBy(
            () ->
                shapeWith(
                    "llama", c -> ((ObjectNode) c.get("rope_scaling")).put("rope_type", "yarn")))
        .hasMessage(
            "/m/config.json: rope_scaling type 'yarn' changes the rotary embedding and is not"
                + " implemented (default and llama3 are)");
    assertThatThrownBy(
            () -> shapeWith("llama", c -> ((ObjectNode) c.get("rope_scaling")).remove("factor")))
        .hasMessage("/m/config.json: rope_scaling.factor must be a number");
    assertThatThrownBy(() -> shapeWith("llama", c -> c.put("mlp_bias", true)))
        .hasMessageContaining("mlp_bias true is not implemented");
    assertThatThrownBy(() -> shapeWith("qwen3", c -> c.put("hidden_act", "gelu")))
        .hasMessageContaining("hidden_act 'gelu' is not implemented");
    assertThatThrownBy(
            () -> shapeWith("qwen3", c -> c.putArray("architectures").add("Qwen3MoeForCausalLM")))
        .hasMessageContaining("architectures 'Qwen3MoeForCausalLM' is not supported");
    // Mistral without a window, and a window as long as the context, are plain attention
    assertThat(shapeWith("mistral", c -> c.put("sliding_window", 32768)).arch().family())
        .isEqualTo("mistral");
    // transformers 5 moves rope_theta into rope_parameters
    ModelShape v5 =
        shapeWith(
            "qwen3",
            c -> {
              c.remove("rope_theta");
              c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 5e5);
            });
    assertThat(v5.ropeTheta()).isEqualTo(5e5);
    // Llama with attention_bias biases all four projections, as LlamaAttention does
    ModelShape biased = shapeWith("llama", c -> c.put("attention_bias", true));
    assertThat(biased.arch().qkvBias()).isTrue();
    assertThat(biased.arch().outBias()).isTrue();
  }

  @Test
  void shardsThatDisagreeWithTheirIndexAreRefused(@TempDir Path d) throws Exception {
    Map<String, byte[]> files = HfFixtures.files(HfFixtures.write(d, "qwen3", 1));
    List<String> shards = ModelWeights.shards(files.get(ModelWeights.INDEX), "/m");
    assertThat(shards).hasSizeGreaterThan(1);
    Map<String, byte[]> missing = new LinkedHashMap<>(files);
    missing.remove(shards.get(1));
    assertThatThrownBy(() -> ModelWeights.read(missing, "/m"))
        .isInstanceOf(CheckpointException.class)
        .hasMessage(
            "/m: model.safetensors.index.json names " + shards.get(1) + ", which is missing");
    Map<String, byte[]> swapped = new LinkedHashMap<>(files);
    swapped.put(shards.get(0), files.get(shards.get(1)));
    assertThatThrownBy(() -> ModelWeights.read(swapped, "/m"))
        .hasMessageContaining("model.safetensors.index.json places in " + shards.get(1));
    Map<String, byte[]> escape = new LinkedHashMap<>(files);
    escape.put(
        ModelWeights.INDEX,
        "{\"weight_map\": {\"model.norm.weight\": \"../other/x.safetensors\"}}"
            .getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> ModelWeights.read(escape, "/m"))
        .hasMessageContaining("names '../other/x.safetensors', not a .safetensors file");
  }

  @Test
  void halfWidthFloatsWidenExactly() {
    assertThat(SafeTensors.bf16ToFloat(SafeTensors.floatToBf16(1.5f))).isEqualTo(1.5f);
    assertThat(SafeTensors.bf16ToFloat(SafeTensors.floatToBf16(-0.0078125f)))
        .isEqualTo(-0.0078125f);
    // rounds to nearest: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 and goes to the even one
    assertThat(SafeTensors.bf16ToFloat(SafeTensors.floatToBf16(1.00390625f))).isEqualTo(1.0f);
    assertThat(SafeTensors.bf16ToFloat(SafeTensors.floatToBf16(Math.nextUp(1.00390625f))))
        .isEqualTo(1.0078125f);
    assertThat(Float.isNaN(SafeTensors.bf16ToFloat(SafeTensors.floatToBf16(Float.NaN)))).isTrue();
    assertThat(SafeTensors.f16ToFloat((short) 0x3c00)).isEqualTo(1.0f);
    assertThat(SafeTensors.f16ToFloat((short) 0xc000)).isEqualTo(-2.0f);
    assertThat(SafeTensors.f16ToFloat((short) 0x7bff)).isEqualTo(65504f);
    assertThat(SafeTensors.f16ToFloat((short) 0x0001)).isEqualTo((float) Math.pow(2, -24));
    assertThat(SafeTensors.f16ToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
  }

  private static ModelShape shapeWith(String family, java.util.function.Consumer<ObjectNode> edit) {
    ObjectNode c = HfFixtures.config(family);
    edit.accept(c);
    try {
      return HfFormat.shape(new ObjectMapper().writeValueAsBytes(c), "/m");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Params params(NDManager m, HfFormat.Model model) {
    Params p = Params.empty(m);
    model.weights().forEach((k, t) -> p.put(k, Host.floats(m, t.data(), new Shape(t.shape()))));
    return p;
  }

  private static float[] logits(HfFormat.Model model, long[] ids) {
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = params(m, model);
      NDArray tokens = m.create(ids, new Shape(1, ids.length));
      NDArray mask = Transformer.mask(m, 1, ids.length, null, DataType.FLOAT32);
      return new Transformer(model.shape()).logits(p, tokens, mask).toFloatArray();
    }
  }

  /** The numpy reference's logits, {@code [t][vocab]}. */
  private double[][] reference(Path dir, long[] ids) throws Exception {
    assumeTrue(
        Files.isExecutable(PYTHON) && run(List.of(PYTHON.toString(), "-c", "import numpy")) != null,
        "no numpy for /usr/bin/python3 (apt-get install python3-numpy; .ci/run does)");
    Path script = tmp.resolve("hf_reference.py");
    try (var in = getClass().getResourceAsStream("/hf/hf_reference.py")) {
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    StringBuilder list = new StringBuilder("[");
    for (int i = 0; i < ids.length; i++) list.append(i == 0 ? "" : ",").append(ids[i]);
    String out =
        run(
            List.of(
                PYTHON.toString(), script.toString(), dir.toString(), list.append("]").toString()));
    assertThat(out).as("the reference failed").isNotNull();
    JsonNode rows = new ObjectMapper().readTree(out).get("logits");
    double[][] r = new double[rows.size()][];
    for (int t = 0; t < rows.size(); t++) {
      r[t] = new double[rows.get(t).size()];
      for (int v = 0; v < r[t].length; v++) r[t][v] = rows.get(t).get(v).asDouble();
    }
    return r;
  }

  /** stdout of a command that exits 0, else null (its stderr goes to the test's log). */
  private static String run(List<String> cmd) throws Exception {
    Process p =
        new ProcessBuilder(new ArrayList<>(cmd))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return null;
    }
    return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
  }
}
