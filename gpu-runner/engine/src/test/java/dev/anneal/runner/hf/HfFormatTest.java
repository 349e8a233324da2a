package dev.anneal.runner.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.data.AnnealChatTemplate;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.tokenizer.BpeTrainer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Export to the Hugging Face layout and import back: the same model, the same logits. */
class HfFormatTest {

  private static final BpeTokenizer TOK =
      BpeTrainer.train(List.of("What is 3 + 4? 7"), 300, false, TokenizerSpec.DEFAULT_SPECIALS);

  @Test
  void exportThenImportGivesIdenticalLogits() throws Exception {
    ModelShape shape =
        ModelShape.of(new ModelConfig("micro", 32, 2, 4, 2, 2.0, 64, 300, false, "causal"));
    try (NDManager m = NDManager.newBaseManager()) {
      Params p = Params.init(shape, m, 3, DataType.FLOAT32);
      Map<String, byte[]> files = HfFormat.export(shape, host(p), TOK);
      assertThat(files)
          .containsOnlyKeys(
              "model.safetensors",
              "config.json",
              "generation_config.json",
              "tokenizer.json",
              "tokenizer_config.json");

      HfFormat.Model back = HfFormat.load(files, "export");
      assertThat(back.shape()).isEqualTo(shape);
      Params q = Params.empty(m);
      back.weights().forEach((k, t) -> q.put(k, Host.floats(m, t.data(), new Shape(t.shape()))));
      long[] ids = {5, 9, 13, 2, 7, 1};
      NDArray tokens = m.create(ids, new Shape(1, ids.length));
      NDArray mask = Transformer.mask(m, 1, ids.length, null, DataType.FLOAT32);
      Transformer model = new Transformer(shape);
      float[] a = model.logits(p, tokens, mask).toFloatArray();
      float[] b = new Transformer(back.shape()).logits(q, tokens, mask).toFloatArray();
      assertThat(b).containsExactly(a);
      assertThat(back.tokenizer().encode("What is 3 + 4?"))
          .containsExactly(TOK.encode("What is 3 + 4?"));

      ObjectMapper json = new ObjectMapper();
      JsonNode config = json.readTree(files.get("config.json"));
      assertThat(config.get("architectures").get(0).asText()).isEqualTo("LlamaForCausalLM");
      assertThat(config.get("num_key_value_heads").asInt()).isEqualTo(2);
      assertThat(config.get("eos_token_id").asInt()).isEqualTo(TOK.id("<|end|>"));
      JsonNode tc = json.readTree(files.get("tokenizer_config.json"));
      assertThat(tc.get("chat_template").asText()).isEqualTo(AnnealChatTemplate.JINJA);
      assertThat(
              tc.get("added_tokens_decoder")
                  .get(Integer.toString(TOK.id("<|assistant|>")))
                  .get("content")
                  .asText())
          .isEqualTo("<|assistant|>");
      // safetensors header carries the format transformers expects
      String header = new String(files.get("model.safetensors"), 8, 200, StandardCharsets.UTF_8);
      assertThat(header).contains("\"format\":\"pt\"");
    }
  }

  @Test
  void aRewardModelExportsAsSequenceClassification() throws Exception {
    ModelShape shape =
        ModelShape.of(new ModelConfig("micro", 32, 1, 4, 4, 2.0, 64, 300, true, "causal"));
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, SafeTensors.HostTensor> w = host(Params.init(shape, m, 3, DataType.FLOAT32));
      w.put("score.weight", new SafeTensors.HostTensor(new long[] {1, 32}, new float[32]));
      JsonNode config =
          new ObjectMapper().readTree(HfFormat.export(shape, w, TOK).get("config.json"));
      assertThat(config.get("architectures").get(0).asText())
          .isEqualTo("LlamaForSequenceClassification");
      assertThat(config.get("num_labels").asInt()).isEqualTo(1);
      assertThat(config.get("tie_word_embeddings").asBoolean()).isTrue();
    }
  }

  @Test
  void aDirectoryWithoutConfigIsRefused() {
    assertThatThrownBy(() -> HfFormat.load(Map.of("tokenizer.json", new byte[0]), "/models/x"))
        .hasMessage("/models/x: has no config.json");
  }

  @Test
  void anIncompleteRopeScalingIsRefusedNotIgnored() {
    String config =
        "{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2,"
            + " \"num_attention_heads\": 4, \"intermediate_size\": 128, \"vocab_size\": 300,"
            + " \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}}";
    // the other refusals and the family members are HfArchitecturesTest's
    assertThatThrownBy(() -> HfFormat.shape(config.getBytes(StandardCharsets.UTF_8), "/m"))
        .hasMessage("/m/config.json: rope_scaling.low_freq_factor must be a number");
  }

  private static Map<String, SafeTensors.HostTensor> host(Params p) {
    return new LinkedHashMap<>(DeviceSnapshot.host(p.all()));
  }
}
