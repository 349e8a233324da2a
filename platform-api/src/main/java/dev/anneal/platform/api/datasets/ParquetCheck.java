package dev.anneal.platform.api.datasets;

import dev.anneal.datafiles.ParquetDataset;
import dev.anneal.datafiles.ParquetDataset.BadParquet;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Checks a Parquet dataset (the Hub's format) once it has streamed to a local file: Parquet's
 * schema and row groups sit in a footer at the file's end, so the columns are checked when the
 * upload is complete, then every row, a row group at a time, as the JSONL check checks a line (the
 * same record shapes, {@link JsonlCheck#recordFormat}). Only the format's columns are read.
 */
public final class ParquetCheck {

  /** A file that is not a good dataset: what, and where (column, row group, row) where known. */
  public static final class Bad extends RuntimeException {
    public final String column;
    public final Integer rowGroup;
    public final Long row;

    Bad(String column, Integer rowGroup, Long row, String message) {
      super(message);
      this.column = column;
      this.rowGroup = rowGroup;
      this.row = row;
    }
  }

  private ParquetCheck() {}

  /** Copies {@code in} to {@code out}; returns the bytes' sha256 and count. */
  static Spooled copy(InputStream in, OutputStream out) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long bytes = new DigestInputStream(in, sha).transferTo(out);
    return new Spooled(bytes, HexFormat.of().formatHex(sha.digest()));
  }

  record Spooled(long bytes, String sha256) {}

  /**
   * Checks the Parquet file {@code file} as a dataset of {@code format} (null: the columns say).
   *
   * @throws Bad naming the column, row group and row of the first problem
   */
  static JsonlCheck.Result check(Path file, String format, Spooled spooled) throws IOException {
    if (format != null && !JsonlCheck.FORMATS.contains(format)) {
      throw new Bad(
          null,
          null,
          null,
          "format must be one of text, chat, preference, prompt; got '" + format + "'");
    }
    try (ParquetDataset pq = ParquetDataset.open(file)) {
      ParquetDataset.Cursor rows = pq.rows(format);
      long records = 0;
      while (rows.advance()) {
        try {
          JsonlCheck.recordFormat(rows.record(), rows.format());
        } catch (JsonlCheck.BadRecord e) {
          throw new Bad(
              null,
              rows.rowGroup(),
              rows.row(),
              "row group " + rows.rowGroup() + ", row " + rows.row() + ": " + e.getMessage());
        }
        records++;
      }
      if (records == 0) throw new Bad(null, null, null, "the file holds no rows (it is empty)");
      return new JsonlCheck.Result(rows.format(), records, spooled.bytes(), spooled.sha256());
    } catch (BadParquet e) {
      throw new Bad(e.column, e.rowGroup, null, e.getMessage());
    }
  }
}
