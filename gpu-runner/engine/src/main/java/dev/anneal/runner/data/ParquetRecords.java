package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.datafiles.ParquetDataset;

/**
 * A Parquet dataset's rows as records ({@link ParquetDataset.Cursor}), each where {@code "<source>
 * row group <g> row <r>"} (from 0, as Parquet's tools count); a file that cannot be read is a
 * {@link JsonlTexts.DataException} naming the source, the column and the row group.
 */
public final class ParquetRecords implements Records {
  private final String source;
  private final ParquetDataset.Cursor rows;

  public ParquetRecords(String source, ParquetDataset file, String format) {
    this.source = source;
    try {
      this.rows = file.rows(format);
    } catch (ParquetDataset.BadParquet e) {
      throw new JsonlTexts.DataException(source + ": " + e.getMessage());
    }
  }

  @Override
  public boolean advance() {
    try {
      return rows.advance();
    } catch (ParquetDataset.BadParquet e) {
      throw new JsonlTexts.DataException(source + ": " + e.getMessage());
    }
  }

  @Override
  public JsonNode node() {
    return rows.record();
  }

  @Override
  public String where() {
    return source + " row group " + rows.rowGroup() + " row " + rows.row();
  }
}
