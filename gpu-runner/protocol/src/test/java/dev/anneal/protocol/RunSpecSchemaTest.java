package dev.anneal.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.InputStream;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The published JSON Schema and the records must describe the same document. */
class RunSpecSchemaTest {

  private static JsonNode schemaNode;
  private static JsonSchema schema;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in =
        RunSpec.class.getResourceAsStream("/dev/anneal/protocol/runspec.schema.json")) {
      schemaNode = ProtocolJson.mapper().readTree(in);
    }
    schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaNode);
  }

  @Test
  void aWrittenSpecIsValidAgainstTheSchema() throws Exception {
    JsonNode doc = ProtocolJson.mapper().readTree(ProtocolJson.write(Samples.spec()));
    Set<ValidationMessage> errors = schema.validate(doc);
    assertThat(errors).isEmpty();
  }

  @Test
  void theSchemaRejectsWhatTheRecordsReject() throws Exception {
    ObjectNode doc = ProtocolJson.mapper().valueToTree(Samples.spec());
    ((ObjectNode) doc.get("training")).put("learningRate", 0.1);
    ((ObjectNode) doc.get("model")).put("attention", "sliding");
    doc.put("team", "../other");
    Set<ValidationMessage> errors = schema.validate(doc);
    assertThat(errors.stream().map(ValidationMessage::getMessage).toList())
        .hasSize(3)
        .anyMatch(m -> m.contains("learningRate"))
        .anyMatch(m -> m.contains("attention"))
        .anyMatch(m -> m.contains("team"));
  }

  @Test
  void schemaPropertiesMatchRecordComponents() {
    assertSameFields(RunSpec.class, schemaNode, "");
  }

  private static void assertSameFields(Class<?> type, JsonNode node, String where) {
    JsonNode resolved = resolve(node);
    Set<String> schemaFields = new TreeSet<>();
    resolved.get("properties").fieldNames().forEachRemaining(schemaFields::add);
    Set<String> recordFields = new TreeSet<>();
    for (RecordComponent c : type.getRecordComponents()) {
      recordFields.add(c.getName());
    }
    assertThat(schemaFields).as("schema fields at '%s'", where).isEqualTo(recordFields);
    assertThat(resolved.get("additionalProperties").asBoolean(true))
        .as("additionalProperties at '%s'", where)
        .isFalse();
    for (RecordComponent c : type.getRecordComponents()) {
      Class<?> child = c.getType();
      if (List.class.isAssignableFrom(child)) {
        child = (Class<?>) ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
        if (child.isRecord()) {
          assertSameFields(
              child,
              resolve(resolved.get("properties").get(c.getName())).get("items"),
              where + c.getName() + "[].");
        }
      } else if (child.isRecord()) {
        assertSameFields(
            child, resolved.get("properties").get(c.getName()), where + c.getName() + ".");
      }
    }
  }

  private static JsonNode resolve(JsonNode node) {
    if (node.has("$ref")) {
      String ref = node.get("$ref").asText();
      JsonNode target = schemaNode;
      for (String part :
          new HashSet<>(Arrays.asList(ref.substring(2).split("/"))).isEmpty()
              ? new String[0]
              : ref.substring(2).split("/")) {
        target = target.get(part);
      }
      return target;
    }
    return node;
  }
}
