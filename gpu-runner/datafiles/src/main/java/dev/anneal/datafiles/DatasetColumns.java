package dev.anneal.datafiles;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * The columns each dataset format reads from a Parquet file, and their types, checked against the
 * file's schema before a row is read. The formats are the JSONL ones: {@code text} ({@code text}),
 * {@code chat} ({@code messages}), {@code preference} ({@code chosen} and {@code rejected}, with an
 * optional {@code prompt}; each a string or messages) and {@code prompt} ({@code prompt}, a string
 * or messages, or {@code messages}; an optional {@code answer} string).
 */
public final class DatasetColumns {
  private static final String ROLE = "role";
  private static final String CONTENT = "content";

  private DatasetColumns() {}

  /** The format a file's columns say, the way a JSONL file's first record says it. */
  public static String formatOf(MessageType schema) {
    if (has(schema, "chosen") || has(schema, "rejected")) return "preference";
    if (has(schema, "messages")) return "chat";
    if (has(schema, "text")) return "text";
    if (has(schema, "prompt")) return "prompt";
    throw new ParquetDataset.BadParquet(
        null,
        null,
        "no known columns "
            + ParquetDataset.names(schema.getFields())
            + ": expected 'text', 'messages', 'prompt' or 'prompt'+'chosen'+'rejected'");
  }

  /**
   * The part of the schema {@code format} reads, every column's type checked.
   *
   * @throws ParquetDataset.BadParquet naming the column that is missing or has a wrong type
   */
  public static MessageType projection(MessageType schema, String format) {
    List<Type> read = new ArrayList<>();
    switch (format) {
      case "text":
        read.add(string(required(schema, "text", format)));
        break;
      case "chat":
        read.add(messages(required(schema, "messages", format)));
        break;
      case "preference":
        optional(schema, "prompt").map(DatasetColumns::stringOrMessages).ifPresent(read::add);
        read.add(stringOrMessages(required(schema, "chosen", format)));
        read.add(stringOrMessages(required(schema, "rejected", format)));
        break;
      case "prompt":
        if (has(schema, "prompt")) {
          read.add(stringOrMessages(schema.getType("prompt")));
        } else if (has(schema, "messages")) {
          read.add(messages(schema.getType("messages")));
        } else {
          throw missing(schema, "prompt", "a prompt dataset needs 'prompt' (or 'messages')");
        }
        optional(schema, "answer").map(DatasetColumns::string).ifPresent(read::add);
        break;
      default:
        throw new ParquetDataset.BadParquet(
            null,
            null,
            "format must be one of text, chat, preference, prompt; got '" + format + "'");
    }
    return new MessageType(schema.getName(), read);
  }

  private static boolean has(GroupType g, String name) {
    return g.containsField(name);
  }

  private static Optional<Type> optional(GroupType g, String name) {
    return has(g, name) ? Optional.of(g.getType(name)) : Optional.empty();
  }

  private static Type required(MessageType schema, String name, String format) {
    if (!has(schema, name)) {
      throw missing(schema, name, "a " + format + " dataset needs '" + name + "'");
    }
    return schema.getType(name);
  }

  private static ParquetDataset.BadParquet missing(MessageType schema, String name, String why) {
    return new ParquetDataset.BadParquet(
        name,
        null,
        "column '"
            + name
            + "' is missing: "
            + why
            + "; the file has columns "
            + ParquetDataset.names(schema.getFields()));
  }

  private static Type string(Type t) {
    if (isString(t) && !t.isRepetition(Type.Repetition.REPEATED)) return t;
    throw wrong(t, "a string (BYTE_ARRAY annotated STRING)");
  }

  private static Type stringOrMessages(Type t) {
    if (isString(t) && !t.isRepetition(Type.Repetition.REPEATED)) return t;
    if (!t.isPrimitive()) return messages(t);
    throw wrong(t, "a string, or a list of {role, content} strings");
  }

  /**
   * The message list's type, read down to {@code role} and {@code content} only: a LIST of a struct
   * (any list layout), or a repeated struct.
   */
  private static Type messages(Type t) {
    String expected = "a list of {role, content} strings";
    if (t.isPrimitive()) throw wrong(t, expected);
    GroupType g = t.asGroupType();
    if (t.isRepetition(Type.Repetition.REPEATED)) return message(g, t, expected);
    if (!isList(g)) throw wrong(t, expected);
    Type repeated = g.getType(0);
    if (repeatedIsElement(repeated)) {
      if (repeated.isPrimitive()) throw wrong(t, expected);
      return g.withNewFields(message(repeated.asGroupType(), t, expected));
    }
    GroupType wrapper = repeated.asGroupType();
    Type element = wrapper.getType(0);
    if (element.isPrimitive()) throw wrong(t, expected);
    return g.withNewFields(wrapper.withNewFields(message(element.asGroupType(), t, expected)));
  }

  private static GroupType message(GroupType element, Type column, String expected) {
    if (!has(element, ROLE) || !has(element, CONTENT)) {
      throw new ParquetDataset.BadParquet(
          column.getName(),
          null,
          "column '"
              + column.getName()
              + "' holds structs with fields "
              + ParquetDataset.names(element.getFields())
              + ", expected "
              + expected);
    }
    for (String f : List.of(ROLE, CONTENT)) {
      Type ft = element.getType(f);
      if (!isString(ft) || ft.isRepetition(Type.Repetition.REPEATED)) {
        throw new ParquetDataset.BadParquet(
            column.getName(),
            null,
            "column '"
                + column.getName()
                + "': its '"
                + f
                + "' is "
                + describe(ft)
                + ", expected a string");
      }
    }
    return element.withNewFields(element.getType(ROLE), element.getType(CONTENT));
  }

  /** A group annotated LIST with the one repeated field the format requires. */
  static boolean isList(GroupType g) {
    return g.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation
        && g.getFieldCount() == 1
        && g.getType(0).isRepetition(Type.Repetition.REPEATED);
  }

  /**
   * Whether a LIST's repeated field is itself the element (the two-level layouts older writers
   * use), rather than a wrapper around it: the Parquet format's backward-compatibility rules.
   */
  static boolean repeatedIsElement(Type repeated) {
    if (repeated.isPrimitive()) return true;
    GroupType g = repeated.asGroupType();
    return g.getFieldCount() > 1 || g.getName().equals("array") || g.getName().endsWith("_tuple");
  }

  static boolean isString(Type t) {
    if (!t.isPrimitive()) return false;
    PrimitiveType p = t.asPrimitiveType();
    if (p.getPrimitiveTypeName() != PrimitiveType.PrimitiveTypeName.BINARY) return false;
    LogicalTypeAnnotation a = p.getLogicalTypeAnnotation();
    return a instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
        || a instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation
        || a instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation;
  }

  private static ParquetDataset.BadParquet wrong(Type t, String expected) {
    return new ParquetDataset.BadParquet(
        t.getName(),
        null,
        "column '" + t.getName() + "' is " + describe(t) + ", expected " + expected);
  }

  /** A column's type in words: {@code INT32}, {@code BYTE_ARRAY without a STRING annotation}… */
  static String describe(Type t) {
    String rep = t.isRepetition(Type.Repetition.REPEATED) ? "repeated " : "";
    if (t.isPrimitive()) {
      PrimitiveType p = t.asPrimitiveType();
      String name =
          p.getPrimitiveTypeName() == PrimitiveType.PrimitiveTypeName.BINARY
              ? "BYTE_ARRAY"
              : p.getPrimitiveTypeName().name();
      LogicalTypeAnnotation a = p.getLogicalTypeAnnotation();
      if (a == null && name.equals("BYTE_ARRAY")) {
        return rep + "BYTE_ARRAY without a STRING annotation (bytes, not text)";
      }
      return rep + name + (a == null ? "" : " (" + a + ")");
    }
    GroupType g = t.asGroupType();
    if (isList(g)) return rep + "a list";
    return rep + "a struct of " + ParquetDataset.names(g.getFields());
  }
}
