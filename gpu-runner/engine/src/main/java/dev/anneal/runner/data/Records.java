package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A dataset's records, one JSON object at a time, read as they are asked for: the lines of a JSONL
 * file or the rows of a Parquet file. Errors name where the record is.
 */
public interface Records {
  /** Moves to the next record; false after the last. */
  boolean advance();

  /** The current record. */
  JsonNode node();

  /**
   * Where the current record is: {@code dataset 'x' line 3}, {@code dataset 'x' row group 0 row 2}.
   */
  String where();
}
