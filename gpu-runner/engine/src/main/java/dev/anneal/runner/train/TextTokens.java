package dev.anneal.runner.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.data.TokenShards;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A text dataset encoded into a token set as it streams in: records (JSONL lines or Parquet rows)
 * read, documents encoded a batch at a time and written to shards, nothing of the dataset held in
 * memory. The built-in engine samples the memory-mapped shards (mapped pages are the page cache's,
 * not the runner's heap or anonymous memory), so a stage trains on a dataset larger than its
 * memory.
 */
public final class TextTokens {

  /** Documents encoded together (Hugging Face's library encodes a batch in parallel). */
  static final int BATCH = 256;

  /** Tokens a shard holds at most. */
  static final long SHARD_TOKENS = 1L << 24;

  private TextTokens() {}

  /** What is done with a dataset's texts, read as they are asked for. */
  @FunctionalInterface
  interface TextsReader<T> {
    T read(Iterator<String> texts) throws IOException;
  }

  /** {@code reader} over {@code d}'s texts, the dataset opened and closed here. */
  static <T> T withTexts(DatasetRef d, BlobStore store, long seed, TextsReader<T> reader)
      throws IOException {
    if (SyntheticCorpus.Key.is(d.key())) {
      return reader.read(Datasets.syntheticTexts(d, seed).iterator());
    }
    try (Datasets.Opened r = Datasets.records(d, store, "text")) {
      return reader.read(JsonlTexts.texts(r.source, r.records));
    }
  }

  /**
   * Writes {@code d} encoded by {@code tok} as a token set in {@code dir}; returns its manifest.
   */
  public static JsonNode write(
      DatasetRef d, BlobStore store, long seed, Tokenizer tok, Path dir, Map<String, String> meta)
      throws IOException {
    int eos = tok.id(tok.specialTokens().get(0));
    return withTexts(
        d,
        store,
        seed,
        texts ->
            TokenShards.write(
                dir, () -> encoded(texts, tok), tok.vocabSize(), eos, SHARD_TOKENS, meta));
  }

  /**
   * {@code d} as a sampler source over its mapped token set, written under {@code java.io.tmpdir}
   * and unlinked once mapped (the mapping lives on; nothing is left behind).
   */
  static Sampler.Source source(DatasetRef d, BlobStore store, long seed, Tokenizer tok) {
    Path dir;
    try {
      dir = Files.createTempDirectory("anneal-tokens-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a directory for the token set", e);
    }
    try {
      write(d, store, seed, tok, dir, Map.of("dataset", d.name()));
      TokenShards shards = TokenShards.open(dir);
      return new Sampler.Source(d.name(), Sampler.Tokens.of(shards));
    } catch (IOException e) {
      throw new UncheckedIOException("the token set in " + dir + ": " + e.getMessage(), e);
    } finally {
      delete(dir);
    }
  }

  private static void delete(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) Files.deleteIfExists(f);
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      dir.toFile().deleteOnExit();
    }
  }

  /** The texts' ids, encoded {@link #BATCH} documents at a time. */
  private static Iterator<int[]> encoded(Iterator<String> texts, Tokenizer tok) {
    return new Iterator<>() {
      private final List<int[]> batch = new ArrayList<>();
      private int at;

      @Override
      public boolean hasNext() {
        if (at < batch.size()) return true;
        batch.clear();
        at = 0;
        List<String> next = new ArrayList<>(BATCH);
        while (next.size() < BATCH && texts.hasNext()) next.add(texts.next());
        if (next.isEmpty()) return false;
        batch.addAll(tok.encodeBatch(next));
        return true;
      }

      @Override
      public int[] next() {
        if (!hasNext()) throw new NoSuchElementException();
        return batch.get(at++);
      }
    };
  }
}
