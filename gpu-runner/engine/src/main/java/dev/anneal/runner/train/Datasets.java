package dev.anneal.runner.train;

import dev.anneal.protocol.DatasetRef;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.Checksums;
import dev.anneal.runner.data.ChatData;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.train.TrainingInputs.MissingInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A stage's datasets read: an object key in the bucket, a {@code file:} path, or {@code
 * synthetic:<source>[?docs=N]}; the sha256 the spec gives checked. Errors name the dataset.
 */
final class Datasets {

  private Datasets() {}

  /** A synthetic dataset's key, which must name {@code source}: what the stage {@code needs}. */
  static SyntheticCorpus.Key synthetic(DatasetRef d, String source, String needs) {
    SyntheticCorpus.Key k = SyntheticCorpus.Key.parse(d.key());
    if (!k.source().equals(source)) {
      throw new MissingInputException(
          "dataset '"
              + d.name()
              + "': "
              + needs
              + "; the synthetic source is synthetic:"
              + source
              + ", got "
              + d.key());
    }
    return k;
  }

  static List<String> texts(DatasetRef d, BlobStore store, long seed) {
    String key = d.key();
    byte[] bytes;
    if (SyntheticCorpus.Key.is(key)) {
      SyntheticCorpus.Key k = SyntheticCorpus.Key.parse(key);
      return SyntheticCorpus.generate(k.source(), seed, k.docs()).stream()
          .map(SyntheticCorpus.Doc::text)
          .toList();
    }
    bytes = bytes(d, store);
    return JsonlTexts.parse(
        "dataset '" + d.name() + "'", new String(bytes, StandardCharsets.UTF_8));
  }

  static List<List<ChatTemplate.Message>> chat(DatasetRef d, BlobStore store, long seed) {
    String key = d.key();
    if (SyntheticCorpus.Key.is(key)) {
      SyntheticCorpus.Key k = synthetic(d, "chat", "an sft stage needs chat data");
      return SyntheticCorpus.chat(seed, k.docs());
    }
    return ChatData.parse(
        "dataset '" + d.name() + "'", new String(bytes(d, store), StandardCharsets.UTF_8));
  }

  static byte[] bytes(DatasetRef d, BlobStore store) {
    String key = d.key();
    byte[] bytes;
    if (key.startsWith("file:")) {
      Path p = Path.of(key.substring("file:".length()));
      try {
        bytes = Files.readAllBytes(p);
      } catch (NoSuchFileException e) {
        throw new MissingInputException(
            "dataset '" + d.name() + "': file " + p + " does not exist");
      } catch (IOException e) {
        throw new MissingInputException(
            "dataset '" + d.name() + "': cannot read " + p + ": " + e.getMessage());
      }
    } else {
      bytes =
          store
              .get(key)
              .orElseThrow(
                  () ->
                      new MissingInputException(
                          "dataset '"
                              + d.name()
                              + "': "
                              + store.describe(key)
                              + " does not exist"));
    }
    if (d.sha256() != null) {
      String actual = Checksums.sha256(bytes);
      if (!actual.equals(d.sha256())) {
        throw new MissingInputException(
            "dataset '"
                + d.name()
                + "': sha256 is "
                + actual
                + " but the spec expects "
                + d.sha256()
                + " (the data changed since it was registered)");
      }
    }
    return bytes;
  }
}
