package dev.anneal.runner.stage;

import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.hf.ModelCard;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Final weights as a Hugging Face directory next to the final checkpoint. */
final class Exports {
  private Exports() {}

  /** The folder {@code name} beside a checkpoint's manifest. */
  static String beside(String manifestKey, String name) {
    return manifestKey.substring(0, manifestKey.lastIndexOf('/') + 1) + name;
  }

  /**
   * Writes {@code p} as a Hugging Face directory under {@code prefix}, as the spec's {@code export}
   * says, with its model card; returns the prefix.
   */
  static String huggingFace(
      BlobStore store,
      RunSpec spec,
      ModelShape shape,
      Params p,
      Tokenizer tok,
      long step,
      Map<String, Double> figures,
      String prefix) {
    Map<String, byte[]> files =
        new LinkedHashMap<>(
            HfFormat.export(shape, DeviceSnapshot.host(p.all()), tok, spec.export()));
    files.put(
        "README.md", ModelCard.write(spec, shape, step, figures).getBytes(StandardCharsets.UTF_8));
    files.forEach((name, bytes) -> store.put(prefix + name, bytes));
    return prefix;
  }
}
