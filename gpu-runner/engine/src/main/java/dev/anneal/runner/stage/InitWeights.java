package dev.anneal.runner.stage;

import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.ModelWeights;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.train.TrainingInputs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A stage's starting weights ({@code initFrom}). */
final class InitWeights {
  private InitWeights() {}

  private static final List<String> HF_FILES = List.of("config.json", "tokenizer.json");

  /** Read when present: the chat template and special tokens, the generation defaults. */
  private static final List<String> HF_OPTIONAL =
      List.of("tokenizer_config.json", "generation_config.json");

  /**
   * The starting weights: an Anneal checkpoint (its manifest key), or {@code hf:<prefix>} — a
   * Hugging Face directory of the LLaMA family in the store (config.json, tokenizer.json, and
   * model.safetensors or model.safetensors.index.json with its shards), such as the {@code hf/}
   * folder every finished stage writes or an imported model.
   */
  static CheckpointReader.Loaded load(BlobStore store, String key) {
    if (!key.startsWith("hf:")) {
      return CheckpointReader.load(store, key);
    }
    String prefix = key.substring(3).endsWith("/") ? key.substring(3) : key.substring(3) + "/";
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String f : HF_FILES) {
      files.put(f, need(store, prefix + f));
    }
    for (String f : HF_OPTIONAL) {
      store.get(prefix + f).ifPresent(b -> files.put(f, b));
    }
    // refuses what is not a supported architecture before a shard is read
    HfFormat.shape(files.get("config.json"), store.describe(prefix));
    Optional<byte[]> index = store.get(prefix + ModelWeights.INDEX);
    if (index.isPresent()) {
      files.put(ModelWeights.INDEX, index.get());
      for (String shard : ModelWeights.shards(index.get(), store.describe(prefix))) {
        files.put(shard, need(store, prefix + shard));
      }
    } else {
      files.put(ModelWeights.SINGLE, need(store, prefix + ModelWeights.SINGLE));
    }
    // the weights are read once, by the trainer
    return new CheckpointReader.Loaded(key, null, files);
  }

  private static byte[] need(BlobStore store, String key) {
    return store
        .get(key)
        .orElseThrow(
            () ->
                new TrainingInputs.MissingInputException(
                    "initFrom: " + store.describe(key) + " does not exist"));
  }
}
