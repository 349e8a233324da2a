package dev.anneal.datafiles;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.HadoopFreeReadOptions;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * A Parquet dataset file, read the way its format's JSONL records are: each row becomes one JSON
 * object of the format's columns ({@link DatasetColumns}), one row group at a time, so memory is
 * bounded by a row group (of the columns read), never by the file. Other columns are never read.
 *
 * <p>Strings are UTF-8 {@code BYTE_ARRAY} columns annotated STRING (or legacy UTF8, ENUM, JSON);
 * message lists are a LIST of a struct with {@code role} and {@code content} strings, under any of
 * the list layouts writers use ({@code list/element}, {@code list/item}, {@code array}, or a bare
 * repeated struct). Numbers and booleans become JSON numbers and booleans. A null value is an
 * absent field, which the record's check then names.
 */
public final class ParquetDataset implements Closeable {
  private static final byte[] MAGIC = {'P', 'A', 'R', '1'};
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** What is wrong with a file, where: the column and the row group when they are known. */
  public static final class BadParquet extends RuntimeException {
    public final String column;
    public final Integer rowGroup;

    public BadParquet(String column, Integer rowGroup, String message) {
      super(message);
      this.column = column;
      this.rowGroup = rowGroup;
    }
  }

  private final ParquetFileReader reader;

  private ParquetDataset(ParquetFileReader reader) {
    this.reader = reader;
  }

  /** Whether a file's first bytes are Parquet's magic ({@code PAR1}). */
  private static boolean isParquet(byte[] head, int length) {
    if (length < MAGIC.length) return false;
    for (int i = 0; i < MAGIC.length; i++) if (head[i] != MAGIC[i]) return false;
    return true;
  }

  /** Whether the stream starts with Parquet's magic; reads (and marks back) four bytes. */
  public static boolean isParquet(InputStream in) throws IOException {
    if (!in.markSupported()) throw new IllegalArgumentException("the stream must support mark");
    in.mark(MAGIC.length);
    byte[] head = in.readNBytes(MAGIC.length);
    in.reset();
    return isParquet(head, head.length);
  }

  /**
   * Opens a local Parquet file and reads its footer (the schema and row groups).
   *
   * @throws BadParquet when it is not a readable Parquet file
   */
  public static ParquetDataset open(Path file) throws IOException {
    long size = Files.size(file);
    if (size < 12) {
      throw new BadParquet(null, null, "not a Parquet file: " + size + " bytes is too short");
    }
    ParquetReadOptions options = HadoopFreeReadOptions.of(new ParquetCodecs());
    try {
      return new ParquetDataset(new ParquetFileReader(new LocalInputFile(file), options));
    } catch (RuntimeException | IOException e) {
      throw new BadParquet(null, null, "not a readable Parquet file (its footer): " + describe(e));
    }
  }

  public MessageType schema() {
    return reader.getFooter().getFileMetaData().getSchema();
  }

  public int rowGroups() {
    return reader.getRowGroups().size();
  }

  public long rows() {
    return reader.getRecordCount();
  }

  /**
   * The rows as their format's records, read as they are asked for; the columns are checked here.
   *
   * @param format {@code text}, {@code chat}, {@code preference} or {@code prompt}, or null for the
   *     one the columns say ({@link DatasetColumns#formatOf})
   * @throws BadParquet for a missing or mistyped column
   */
  public Cursor rows(String format) {
    MessageType schema = schema();
    String fmt = format == null ? DatasetColumns.formatOf(schema) : format;
    MessageType projection = DatasetColumns.projection(schema, fmt);
    reader.setRequestedSchema(projection);
    return new Cursor(fmt, projection, new ColumnIOFactory().getColumnIO(projection, schema));
  }

  /** One pass over the rows. */
  public final class Cursor {
    private final String format;
    private final MessageType projection;
    private final MessageColumnIO io;
    private RecordReader<Group> records;
    private long inGroup;
    private int group = -1;
    private long row = -1;
    private ObjectNode record;

    private Cursor(String format, MessageType projection, MessageColumnIO io) {
      this.format = format;
      this.projection = projection;
      this.io = io;
    }

    /** The format the rows are read as. */
    public String format() {
      return format;
    }

    /**
     * Moves to the next row; false after the last.
     *
     * @throws BadParquet for a row group or row that cannot be read or decoded
     */
    public boolean advance() {
      while (records == null || row + 1 >= inGroup) {
        if (!nextGroup()) return false;
      }
      row++;
      Group g;
      try {
        g = records.read();
      } catch (RuntimeException e) {
        throw new BadParquet(
            null,
            group,
            "row group " + group + ", row " + row + " cannot be decoded: " + describe(e));
      }
      try {
        record = object(g, projection);
      } catch (BadParquet e) {
        throw new BadParquet(
            e.column, group, "row group " + group + ", row " + row + ": " + e.getMessage());
      }
      return true;
    }

    private boolean nextGroup() {
      group++;
      try {
        PageReadStore pages = reader.readNextRowGroup();
        if (pages == null) {
          records = null;
          row = -1;
          inGroup = 0;
          group--;
          return false;
        }
        records = io.getRecordReader(pages, new GroupRecordConverter(projection));
        inGroup = pages.getRowCount();
        row = -1;
        return true;
      } catch (IOException | RuntimeException e) {
        throw new BadParquet(null, group, "row group " + group + " cannot be read: " + describe(e));
      }
    }

    /** The row group of the current row, from 0. */
    public int rowGroup() {
      return group;
    }

    /** The current row within its row group, from 0. */
    public long row() {
      return row;
    }

    /** The current row as a JSON object (null values left out). */
    public ObjectNode record() {
      return record;
    }
  }

  private static ObjectNode object(Group g, GroupType type) {
    ObjectNode o = JSON.objectNode();
    for (int i = 0; i < type.getFieldCount(); i++) {
      if (g.getFieldRepetitionCount(i) == 0) continue;
      Type f = type.getType(i);
      if (f.isRepetition(Type.Repetition.REPEATED)) {
        ArrayNode a = o.putArray(f.getName());
        for (int k = 0; k < g.getFieldRepetitionCount(i); k++) a.add(value(g, i, k, f));
      } else {
        o.set(f.getName(), value(g, i, 0, f));
      }
    }
    return o;
  }

  private static JsonNode value(Group g, int field, int index, Type f) {
    if (f.isPrimitive()) return primitive(g, field, index, f.asPrimitiveType());
    Group child = g.getGroup(field, index);
    GroupType gt = f.asGroupType();
    if (DatasetColumns.isList(gt)) return list(child, gt);
    return object(child, gt);
  }

  /** A LIST group's elements: its repeated field, and under it the element when there is one. */
  private static ArrayNode list(Group g, GroupType listType) {
    ArrayNode a = JSON.arrayNode();
    Type repeated = listType.getType(0);
    for (int k = 0; k < g.getFieldRepetitionCount(0); k++) {
      if (DatasetColumns.repeatedIsElement(repeated)) {
        a.add(value(g, 0, k, repeated));
        continue;
      }
      Group wrapper = g.getGroup(0, k);
      Type element = repeated.asGroupType().getType(0);
      a.add(
          wrapper.getFieldRepetitionCount(0) == 0
              ? JSON.nullNode()
              : value(wrapper, 0, 0, element));
    }
    return a;
  }

  private static JsonNode primitive(Group g, int field, int index, PrimitiveType p) {
    switch (p.getPrimitiveTypeName()) {
      case BINARY:
      case FIXED_LEN_BYTE_ARRAY:
        return JSON.textNode(utf8(g.getBinary(field, index).toByteBuffer(), p.getName()));
      case BOOLEAN:
        return JSON.booleanNode(g.getBoolean(field, index));
      case INT32:
        return JSON.numberNode(g.getInteger(field, index));
      case INT64:
        return JSON.numberNode(g.getLong(field, index));
      case FLOAT:
        return JSON.numberNode(g.getFloat(field, index));
      case DOUBLE:
        return JSON.numberNode(g.getDouble(field, index));
      default:
        throw new BadParquet(
            p.getName(), null, "column '" + p.getName() + "' is " + p.getPrimitiveTypeName());
    }
  }

  private static String utf8(ByteBuffer bytes, String column) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadParquet(column, null, "column '" + column + "' holds bytes that are not UTF-8");
    }
  }

  /** An exception's message and its causes' ("could not decompress page: a SNAPPY page is…"). */
  static String describe(Throwable e) {
    StringBuilder out = new StringBuilder();
    for (Throwable t = e; t != null && out.length() < 500; t = t.getCause()) {
      String m = t.getMessage();
      if (m == null || m.isBlank()) m = t.getClass().getSimpleName();
      if (out.indexOf(m) >= 0) continue;
      if (out.length() > 0) out.append(": ");
      out.append(m);
    }
    return out.toString();
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }

  /** The names of a list of columns, for messages. */
  static List<String> names(List<Type> types) {
    List<String> out = new ArrayList<>();
    for (Type t : types) out.add(t.getName());
    return out;
  }
}
