package dev.anneal.workflows.api.spec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The pipeline spec's JSON Schema ({@code pipeline.schema.json}, for editors and CI linting) is
 * derived from the records, so the two cannot drift: this test regenerates it and compares it with
 * the committed file (update with {@code -Danneal.updateSchema=true}), and checks that every
 * example validates against it while a misspelt field does not.
 */
class PipelineSchemaTest {

  private static final Path SCHEMA =
      Path.of("src/main/resources/dev/anneal/workflows/pipeline.schema.json");
  private static final ObjectMapper JSON = new ObjectMapper();

  static ObjectNode generate() {
    ObjectNode root = schemaOf(PipelineSpec.class);
    root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
    root.put("$id", "https://anneal.dev/schemas/v1/pipeline.schema.json");
    root.put("title", "Anneal pipeline (apiVersion anneal.dev/v1, kind Pipeline)");
    ArrayNode required = root.putArray("required");
    Stream.of("apiVersion", "kind", "metadata", "stages").forEach(required::add);
    ((ObjectNode) root.get("properties"))
        .putObject("apiVersion")
        .put("const", PipelineSpec.API_VERSION);
    ((ObjectNode) root.get("properties")).putObject("kind").put("const", PipelineSpec.KIND);
    return root;
  }

  private static ObjectNode schemaOf(Type type) {
    ObjectNode n = JSON.createObjectNode();
    Class<?> raw =
        type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    if (raw == String.class) {
      n.put("type", "string");
    } else if (raw == Integer.class || raw == int.class || raw == Long.class || raw == long.class) {
      n.put("type", "integer");
    } else if (raw == Double.class || raw == double.class) {
      n.put("type", "number");
    } else if (raw == Boolean.class || raw == boolean.class) {
      n.put("type", "boolean");
    } else if (raw.isEnum()) {
      ArrayNode values = n.putArray("enum");
      for (Object c : raw.getEnumConstants()) values.add(jsonValue(c));
    } else if (List.class.isAssignableFrom(raw)) {
      n.put("type", "array");
      n.set("items", schemaOf(((ParameterizedType) type).getActualTypeArguments()[0]));
    } else if (Map.class.isAssignableFrom(raw)) {
      n.put("type", "object");
      n.set(
          "additionalProperties", schemaOf(((ParameterizedType) type).getActualTypeArguments()[1]));
    } else if (raw.isRecord()) {
      n.put("type", "object");
      n.put("additionalProperties", false);
      ObjectNode props = n.putObject("properties");
      for (RecordComponent c : raw.getRecordComponents()) {
        props.set(c.getName(), schemaOf(c.getGenericType()));
      }
    } else {
      throw new IllegalArgumentException("no schema mapping for " + type);
    }
    return n;
  }

  private static String jsonValue(Object constant) {
    for (Method m : constant.getClass().getMethods()) {
      if (m.isAnnotationPresent(JsonValue.class)) {
        try {
          return String.valueOf(m.invoke(constant));
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return ((Enum<?>) constant).name();
  }

  @Test
  void theCommittedSchemaIsTheOneTheRecordsDescribe() throws Exception {
    String generated = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(generate()) + "\n";
    if (Boolean.getBoolean("anneal.updateSchema")) {
      Files.writeString(SCHEMA, generated, StandardCharsets.UTF_8);
    }
    assertThat(SCHEMA).exists();
    assertThat(Files.readString(SCHEMA))
        .as("update with -Danneal.updateSchema=true")
        .isEqualTo(generated);
  }

  @Test
  void everyExampleValidatesAndAMisspeltFieldDoesNot() throws Exception {
    JsonSchema schema =
        JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(generate());
    YAMLMapper yaml = new YAMLMapper();
    List<Path> examples;
    try (Stream<Path> s = Files.list(Path.of("../examples"))) {
      examples = s.filter(p -> p.toString().endsWith(".yaml")).toList();
    }
    for (Path e : examples) {
      JsonNode doc = yaml.readTree(Files.readString(e));
      assertThat(schema.validate(doc)).as(e.toString()).isEmpty();
    }
    JsonNode bad =
        yaml.readTree(
            Files.readString(Path.of("../examples/tiny-chat.yaml"))
                .replace("hyperparameters:", "hyperparams:"));
    assertThat(schema.validate(bad))
        .isNotEmpty()
        .anyMatch(m -> m.getMessage().contains("hyperparams"));
  }
}
