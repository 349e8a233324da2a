package dev.anneal.runner.stage;

import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.tokenizer.Tokenizer;

/** Final weights as a Hugging Face directory next to the final checkpoint. */
final class Exports {
  private Exports() {}

  /** The folder {@code name} beside a checkpoint's manifest. */
  static String beside(String manifestKey, String name) {
    return manifestKey.substring(0, manifestKey.lastIndexOf('/') + 1) + name;
  }

  /** Writes {@code p} as a LLaMA directory under {@code prefix}; returns the prefix. */
  static String huggingFace(
      BlobStore store, ModelShape shape, Params p, Tokenizer tok, String prefix) {
    HfFormat.export(shape, DeviceSnapshot.host(p.all()), tok)
        .forEach((name, bytes) -> store.put(prefix + name, bytes));
    return prefix;
  }
}
