package dev.anneal.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.InputStream;
import java.util.stream.Collectors;

/** Reads and writes protocol documents strictly: unknown fields and bad values are errors. */
public final class ProtocolJson {

  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .serializationInclusion(JsonInclude.Include.NON_NULL)
          .build();

  static {
    strictScalars(MAPPER);
  }

  /**
   * No scalar turns into another kind: a number where a name belongs, {@code "5"} where a number
   * belongs, {@code 1.5} where an integer belongs, {@code "true"} or {@code 1} where a boolean
   * belongs are refused, not coerced. (An integer where a decimal belongs is a decimal.)
   */
  public static ObjectMapper strictScalars(ObjectMapper m) {
    m.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Integer)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Float)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Boolean)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    return m;
  }

  private ProtocolJson() {}

  /** The shared, strict mapper (thread-safe). */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  public static RunSpec readSpec(String json) {
    return read(json, RunSpec.class);
  }

  public static RunSpec readSpec(InputStream in) {
    try {
      return read(
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), RunSpec.class);
    } catch (IOException e) {
      throw new ProtocolException("", "cannot read spec: " + e.getMessage(), e);
    }
  }

  public static CheckpointManifest readManifest(String json) {
    return read(json, CheckpointManifest.class);
  }

  public static EventBatch readEventBatch(String json) {
    return read(json, EventBatch.class);
  }

  public static String write(Object document) {
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(document);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + document.getClass().getName(), e);
    }
  }

  public static <T> T read(String json, Class<T> type) {
    try {
      return MAPPER.readValue(json, type);
    } catch (UnrecognizedPropertyException e) {
      String known =
          e.getKnownPropertyIds() == null
              ? ""
              : " (known fields: "
                  + e.getKnownPropertyIds().stream()
                      .map(String::valueOf)
                      .sorted()
                      .collect(Collectors.joining(", "))
                  + ")";
      throw new ProtocolException(pathOf(e), "unknown field" + known, e);
    } catch (JsonMappingException e) {
      throw located(e);
    } catch (JsonProcessingException e) {
      throw ProtocolException.malformed("JSON", e);
    }
  }

  /**
   * Jackson's path points at the object being built; a record constructor's message starts with the
   * field inside it ("lr: must be > 0"), so the two join into "training.lr: must be > 0".
   */
  private static ProtocolException located(JsonMappingException e) {
    String path = pathOf(e);
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root instanceof IllegalArgumentException && root.getMessage() != null) {
      String message = root.getMessage();
      int colon = message.indexOf(": ");
      if (colon > 0) {
        String field = message.substring(0, colon);
        if (field.matches("[A-Za-z][A-Za-z0-9]*(\\[\\d+])?(\\.[A-Za-z][A-Za-z0-9]*)*")) {
          String full = path.isEmpty() ? field : path + "." + field;
          return new ProtocolException(full, message.substring(colon + 2), e);
        }
      }
      return new ProtocolException(path, message, e);
    }
    return new ProtocolException(path, e.getOriginalMessage().split("\n")[0], e);
  }

  private static String pathOf(JsonMappingException e) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (path.length() > 0) path.append('.');
        path.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    return path.toString();
  }
}
