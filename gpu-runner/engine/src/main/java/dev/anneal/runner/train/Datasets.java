package dev.anneal.runner.train;

import dev.anneal.datafiles.ParquetDataset;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.data.ChatData;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.data.ParquetRecords;
import dev.anneal.runner.data.PreferenceData;
import dev.anneal.runner.data.PromptData;
import dev.anneal.runner.data.Records;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.train.TrainingInputs.MissingInputException;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.BiFunction;

/**
 * A stage's datasets read: an object key in the bucket, a {@code file:} path, or {@code
 * synthetic:<source>[?docs=N]}; JSONL or Parquet; the sha256 the spec gives checked. Errors name
 * the dataset.
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

  /** A synthetic dataset's documents. */
  static List<String> syntheticTexts(DatasetRef d, long seed) {
    SyntheticCorpus.Key k = SyntheticCorpus.Key.parse(d.key());
    return SyntheticCorpus.generate(k.source(), seed, k.docs()).stream()
        .map(SyntheticCorpus.Doc::text)
        .toList();
  }

  /**
   * The first documents of a text dataset, up to {@code maxChars} characters: what a tokenizer is
   * trained on (the rest is never read for it).
   */
  static List<String> sample(DatasetRef d, BlobStore store, long seed, long maxChars) {
    try {
      return TextTokens.withTexts(
          d,
          store,
          seed,
          texts -> {
            List<String> out = new ArrayList<>();
            long n = 0;
            while (n < maxChars && texts.hasNext()) {
              String t = texts.next();
              out.add(t);
              n += t.length();
            }
            return out;
          });
    } catch (IOException e) {
      throw new MissingInputException("dataset '" + d.name() + "': " + e.getMessage());
    }
  }

  static List<List<ChatTemplate.Message>> chat(DatasetRef d, BlobStore store, long seed) {
    String key = d.key();
    if (SyntheticCorpus.Key.is(key)) {
      SyntheticCorpus.Key k = synthetic(d, "chat", "an sft stage needs chat data");
      return SyntheticCorpus.chat(seed, k.docs());
    }
    return lines(d, store, "chat", ChatData::parse);
  }

  /** A reward stage's preference pairs, read a record at a time. */
  static List<PreferenceData.Preference> preferences(DatasetRef d, BlobStore store) {
    return lines(d, store, "preference", PreferenceData::parse);
  }

  /** An RLHF stage's prompts, read a record at a time. */
  static List<PromptData.Prompt> prompts(DatasetRef d, BlobStore store) {
    return lines(d, store, "prompt", PromptData::parse);
  }

  /** {@code parse} of the dataset's records, read as the stage's {@code format}. */
  private static <T> T lines(
      DatasetRef d, BlobStore store, String format, BiFunction<String, Records, T> parse) {
    try (Opened r = records(d, store, format)) {
      return parse.apply(r.source, r.records);
    } catch (IOException e) {
      throw new MissingInputException("dataset '" + d.name() + "': " + e.getMessage());
    }
  }

  /** A dataset's records, open; closing it closes the file and removes what was spooled. */
  static final class Opened implements Closeable {
    final String source;
    final Records records;
    private final Closeable resources;

    Opened(String source, Records records, Closeable resources) {
      this.source = source;
      this.records = records;
      this.resources = resources;
    }

    @Override
    public void close() throws IOException {
      resources.close();
    }
  }

  /**
   * The dataset's records as {@code format} reads them: JSONL lines, or the rows of a Parquet file
   * (told by its first bytes). Parquet is read from a local file: a {@code file:} dataset's own, or
   * the object streamed to a temporary one (sha256 checked on the way), removed on close.
   */
  static Opened records(DatasetRef d, BlobStore store, String format) throws IOException {
    String source = "dataset '" + d.name() + "'";
    BufferedInputStream in = new BufferedInputStream(open(d, store), 1 << 16);
    boolean parquet;
    try {
      parquet = ParquetDataset.isParquet(in);
    } catch (IOException e) {
      in.close();
      throw e;
    }
    if (!parquet) return new Opened(source, JsonlTexts.lines(source, JsonlTexts.reader(in)), in);
    Path file;
    Path spooled = null;
    try (in) {
      if (d.key().startsWith("file:")) {
        file = Path.of(d.key().substring("file:".length()));
        if (d.sha256() != null) in.transferTo(OutputStream.nullOutputStream());
      } else {
        spooled = Files.createTempFile("anneal-dataset-", ".parquet");
        Files.copy(in, spooled, StandardCopyOption.REPLACE_EXISTING);
        file = spooled;
      }
    } catch (IOException | RuntimeException e) {
      if (spooled != null) Files.deleteIfExists(spooled);
      throw e;
    }
    Path tmp = spooled;
    ParquetDataset pq;
    try {
      pq = ParquetDataset.open(file);
    } catch (ParquetDataset.BadParquet e) {
      if (tmp != null) Files.deleteIfExists(tmp);
      throw new JsonlTexts.DataException(source + ": " + e.getMessage());
    }
    Closeable both =
        () -> {
          try {
            pq.close();
          } finally {
            if (tmp != null) Files.deleteIfExists(tmp);
          }
        };
    try {
      return new Opened(source, new ParquetRecords(source, pq, format), both);
    } catch (RuntimeException e) {
      both.close();
      throw e;
    }
  }

  /**
   * The dataset's bytes as they stream in; with a sha256 in the spec, reading past the end checks
   * it (a mismatch is a {@link MissingInputException}: the data changed since it was registered).
   */
  static InputStream open(DatasetRef d, BlobStore store) {
    String key = d.key();
    InputStream in;
    if (key.startsWith("file:")) {
      Path p = Path.of(key.substring("file:".length()));
      try {
        in = Files.newInputStream(p);
      } catch (NoSuchFileException e) {
        throw new MissingInputException(
            "dataset '" + d.name() + "': file " + p + " does not exist");
      } catch (IOException e) {
        throw new MissingInputException(
            "dataset '" + d.name() + "': cannot read " + p + ": " + e.getMessage());
      }
    } else {
      in =
          store
              .open(key)
              .orElseThrow(
                  () ->
                      new MissingInputException(
                          "dataset '"
                              + d.name()
                              + "': "
                              + store.describe(key)
                              + " does not exist"));
    }
    return d.sha256() == null ? in : new Verified(in, d);
  }

  /** Hashes what is read; at the end, compares with the spec's sha256. */
  private static final class Verified extends FilterInputStream {
    private final DatasetRef dataset;
    private final MessageDigest digest;
    private boolean checked;

    Verified(InputStream in, DatasetRef dataset) {
      super(in);
      this.dataset = dataset;
      try {
        this.digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b < 0) check();
      else digest.update((byte) b);
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n < 0) check();
      else digest.update(buf, off, n);
      return n;
    }

    @Override
    public long skip(long n) {
      throw new UnsupportedOperationException("a checked dataset is read, not skipped");
    }

    private void check() {
      if (checked) return;
      checked = true;
      String actual = HexFormat.of().formatHex(digest.digest());
      if (!actual.equals(dataset.sha256())) {
        throw new MissingInputException(
            "dataset '"
                + dataset.name()
                + "': sha256 is "
                + actual
                + " but the spec expects "
                + dataset.sha256()
                + " (the data changed since it was registered)");
      }
    }
  }
}
