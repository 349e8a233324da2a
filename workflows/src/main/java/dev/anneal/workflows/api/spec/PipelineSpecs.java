package dev.anneal.workflows.api.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.anneal.protocol.ProtocolException;
import dev.anneal.protocol.ProtocolJson;

/**
 * Reads pipeline specs from YAML or JSON, strictly: unknown fields and bad values name their path.
 */
public final class PipelineSpecs {

  private static final YAMLMapper YAML = new YAMLMapper();

  private PipelineSpecs() {}

  /**
   * @throws ProtocolException with the field's path, e.g. {@code stages[2].hyperparameters.lr: must
   *     be > 0, got -1.0}, or the line and column of a syntax error
   */
  public static PipelineSpec parse(String text) {
    String trimmed = text.stripLeading();
    if (trimmed.startsWith("{")) {
      return ProtocolJson.read(text, PipelineSpec.class);
    }
    JsonNode tree;
    try {
      tree = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw ProtocolException.malformed("YAML", e);
    }
    if (tree == null || !tree.isObject()) {
      throw new ProtocolException("", "a pipeline spec is a YAML or JSON object", null);
    }
    return ProtocolJson.read(tree.toString(), PipelineSpec.class);
  }

  public static String toYaml(PipelineSpec spec) {
    try {
      return YAML.writeValueAsString(ProtocolJson.mapper().valueToTree(spec));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
