package dev.anneal.runner.stage;

import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.train.TrainingInputs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A stage's starting weights ({@code initFrom}). */
final class InitWeights {
  private InitWeights() {}

  private static final List<String> HF_FILES =
      List.of("config.json", "model.safetensors", "tokenizer.json");

  /**
   * The starting weights: an Anneal checkpoint (its manifest key), or {@code hf:<prefix>} — a
   * Hugging Face LLaMA directory in the store (config.json, model.safetensors, tokenizer.json),
   * such as the {@code hf/} folder every finished stage writes.
   */
  static CheckpointReader.Loaded load(BlobStore store, String key) {
    if (!key.startsWith("hf:")) {
      return CheckpointReader.load(store, key);
    }
    String prefix = key.substring(3).endsWith("/") ? key.substring(3) : key.substring(3) + "/";
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String f : HF_FILES) {
      store.get(prefix + f).ifPresent(b -> files.put(f, b));
    }
    for (String f : HF_FILES) {
      if (!files.containsKey(f)) {
        throw new TrainingInputs.MissingInputException(
            "initFrom: " + store.describe(prefix + f) + " does not exist");
      }
    }
    // refuses what is not a LLaMA directory; the weights are read once, by the trainer
    HfFormat.shape(files.get("config.json"), store.describe(prefix));
    return new CheckpointReader.Loaded(key, null, files);
  }
}
