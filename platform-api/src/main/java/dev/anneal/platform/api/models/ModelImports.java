package dev.anneal.platform.api.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.teams.Teams;
import dev.anneal.protocol.HfModelConfig;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.SafeTensorsHeader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Imports a Hugging Face checkpoint of the LLaMA family into a team's registry: every file is
 * streamed to disk with its sha256, then checked before anything is stored — the config (the
 * engine's own rules, {@link HfModelConfig}), the tokenizer, the weight files (one {@code
 * model.safetensors}, or the shards its index names, each header read and every tensor the
 * architecture needs present with its shape) — then written under the team's prefix and registered
 * as the next version of the model with lineage {@code imported}. The registry names it by {@code
 * model:<name>}; its key is built from the caller's team, never taken from the request.
 */
@Component
public class ModelImports {

  static final String INDEX = "model.safetensors.index.json";
  static final String SINGLE = "model.safetensors";

  /** Files an import takes besides the weights. */
  static final List<String> METADATA =
      List.of(
          "config.json",
          "generation_config.json",
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "README.md",
          "LICENSE");

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One uploaded file, on local disk until the import is stored. */
  public record Upload(String name, InputStream body) {}

  private record Staged(String name, Path path, long bytes, String sha256) {}

  private final JdbcTemplate jdbc;
  private final ObjectStore store;
  private final Models models;

  ModelImports(JdbcTemplate jdbc, ObjectStore store, Models models) {
    this.jdbc = jdbc;
    this.store = store;
    this.models = models;
  }

  /** Whether an import takes a file of this name (the CLI skips the others, saying so). */
  public static boolean accepts(String name) {
    return METADATA.contains(name) || name.equals(INDEX) || name.endsWith(".safetensors");
  }

  public Models.Model importModel(Caller caller, String name, List<Upload> uploads)
      throws IOException {
    if (name == null || !name.matches(Teams.NAME_PATTERN)) {
      throw ApiException.badRequest(
          "name: a model name is 1 to 63 of a-z, 0-9, '.', '_', '-', got '" + name + "'", "name");
    }
    Path dir = Files.createTempDirectory("anneal-import-");
    try {
      Map<String, Staged> files = new TreeMap<>();
      for (Upload u : uploads) {
        String f = checkName(u.name());
        if (files.containsKey(f)) throw invalid(f + ": given twice", f);
        files.put(f, stage(dir, f, u.body()));
      }
      HfModelConfig config = check(files);
      return register(caller, name, files, config);
    } finally {
      try (var s = Files.list(dir)) {
        for (Path p : s.toList()) Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    }
  }

  private static String checkName(String f) {
    if (f == null || f.isBlank()) {
      throw ApiException.badRequest("file: every part needs a file name", "file");
    }
    if (f.contains("/") || f.contains("\\") || f.startsWith(".")) {
      throw invalid(f + ": a file of the directory itself, without a path, is expected", f);
    }
    if (f.endsWith(".bin") || f.endsWith(".pt") || f.endsWith(".pth") || f.endsWith(".ckpt")) {
      throw invalid(
          f
              + ": pickle checkpoints are not imported (loading one runs the code it holds);"
              + " save the model with safetensors (save_pretrained(safe_serialization=True))",
          f);
    }
    if (!accepts(f)) {
      throw invalid(
          f
              + ": not a file an import takes ("
              + String.join(", ", METADATA)
              + ", "
              + SINGLE
              + " or "
              + INDEX
              + " with its shards)",
          f);
    }
    return f;
  }

  private static Staged stage(Path dir, String name, InputStream body) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Path p = dir.resolve(name);
    long bytes;
    try (InputStream in = new DigestInputStream(body, sha);
        OutputStream out = Files.newOutputStream(p)) {
      bytes = in.transferTo(out);
    }
    return new Staged(name, p, bytes, HexFormat.of().formatHex(sha.digest()));
  }

  /** Everything checked before a byte is stored; errors name the file and what is wrong. */
  private static HfModelConfig check(Map<String, Staged> files) throws IOException {
    for (String need : List.of("config.json", "tokenizer.json")) {
      if (!files.containsKey(need)) throw invalid("the directory has no " + need, need);
    }
    HfModelConfig config;
    try {
      config = HfModelConfig.parse(Files.readAllBytes(files.get("config.json").path()), "model");
    } catch (IllegalArgumentException e) {
      throw invalid(e.getMessage(), "config.json");
    }
    for (String json :
        List.of(
            "tokenizer.json",
            "tokenizer_config.json",
            "generation_config.json",
            "special_tokens_map.json")) {
      if (files.containsKey(json)) jsonObject(files.get(json), json);
    }
    JsonNode tok = jsonObject(files.get("tokenizer.json"), "tokenizer.json");
    if (!tok.path("model").isObject()) {
      throw invalid(
          "tokenizer.json: has no model section (not a Hugging Face tokenizers file)",
          "tokenizer.json");
    }
    Map<String, String> placement = weightFiles(files);
    Map<String, long[]> expected = config.tensors();
    Map<String, long[]> found = new HashMap<>();
    for (String shard : new java.util.TreeSet<>(placement.values())) {
      Staged s = files.get(shard);
      Map<String, SafeTensorsHeader.Entry> header;
      try (InputStream in = Files.newInputStream(s.path())) {
        header = SafeTensorsHeader.read(in, s.bytes(), shard).tensors();
      } catch (IllegalArgumentException e) {
        throw invalid(e.getMessage(), shard);
      }
      for (var e : header.entrySet()) {
        String named = placement.get(e.getKey());
        if (!shard.equals(named)) {
          throw invalid(
              shard
                  + ": holds "
                  + e.getKey()
                  + ", which "
                  + INDEX
                  + (named == null ? " does not name" : " places in " + named),
              shard);
        }
        found.put(e.getKey(), e.getValue().shape());
      }
    }
    for (var e : expected.entrySet()) {
      long[] shape = found.get(e.getKey());
      if (shape == null) {
        throw invalid(
            "weights: no " + e.getKey() + " (a " + config.family() + " of this config has it)",
            "weights");
      }
      if (!Arrays.equals(shape, e.getValue())) {
        throw invalid(
            "weights: "
                + e.getKey()
                + " is "
                + Arrays.toString(shape)
                + ", config.json implies "
                + Arrays.toString(e.getValue()),
            "weights");
      }
    }
    for (String name : found.keySet()) {
      if (!expected.containsKey(name) && !name.equals("score.weight")) {
        throw invalid(
            "weights: "
                + name
                + " is not part of a "
                + config.family()
                + " of this config (its architecture is not the one config.json says)",
            "weights");
      }
    }
    return config;
  }

  /** Tensor name → the weight file holding it (one file, or the index's map). */
  private static Map<String, String> weightFiles(Map<String, Staged> files) throws IOException {
    Map<String, String> placement = new LinkedHashMap<>();
    if (!files.containsKey(INDEX)) {
      if (!files.containsKey(SINGLE)) {
        throw invalid("the directory has neither " + SINGLE + " nor " + INDEX, "weights");
      }
      for (String f : files.keySet()) {
        if (f.endsWith(".safetensors") && !f.equals(SINGLE)) {
          throw invalid(f + ": a shard without " + INDEX, f);
        }
      }
      try (InputStream in = Files.newInputStream(files.get(SINGLE).path())) {
        for (String t :
            SafeTensorsHeader.read(in, files.get(SINGLE).bytes(), SINGLE).tensors().keySet()) {
          placement.put(t, SINGLE);
        }
      } catch (IllegalArgumentException e) {
        throw invalid(e.getMessage(), SINGLE);
      }
      return placement;
    }
    JsonNode map = jsonObject(files.get(INDEX), INDEX).path("weight_map");
    if (!map.isObject() || map.isEmpty()) throw invalid(INDEX + ": has no weight_map", INDEX);
    map.fields()
        .forEachRemaining(
            e -> {
              String shard = e.getValue().asText("");
              if (!files.containsKey(shard)) {
                throw invalid(
                    INDEX + ": names " + shard + " for " + e.getKey() + ", which is not given",
                    shard);
              }
              placement.put(e.getKey(), shard);
            });
    for (String f : files.keySet()) {
      if (f.endsWith(".safetensors") && !placement.containsValue(f)) {
        throw invalid(f + ": a weight file " + INDEX + " does not name", f);
      }
    }
    return placement;
  }

  private static JsonNode jsonObject(Staged s, String name) throws IOException {
    JsonNode n;
    try {
      n = JSON.readTree(s.path().toFile());
    } catch (IOException e) {
      throw invalid(
          name + ": not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", name);
    }
    if (n == null || !n.isObject()) throw invalid(name + ": not a JSON object", name);
    return n;
  }

  private Models.Model register(
      Caller caller, String name, Map<String, Staged> files, HfModelConfig config)
      throws IOException {
    for (int tries = 0; ; tries++) {
      int version =
          jdbc.queryForObject(
              "SELECT COALESCE(max(version), 0) + 1 FROM models WHERE team_id = ? AND name = ?",
              Integer.class,
              caller.teamId(),
              name);
      String prefix = ObjectKeys.model(caller.team(), name, version);
      ObjectNode lineage = JSON.createObjectNode();
      lineage.put("origin", "imported");
      lineage.put("architecture", HfModelConfig.FAMILIES.get(config.family()) + "ForCausalLM");
      lineage.put("family", config.family());
      lineage.put("parameters", parameters(config));
      ArrayNode list = lineage.putArray("files");
      for (Staged s : files.values()) {
        list.addObject().put("name", s.name()).put("bytes", s.bytes()).put("sha256", s.sha256());
      }
      UUID id = UUID.randomUUID();
      try {
        jdbc.update(
            "INSERT INTO models (id, team_id, name, version, uri, lineage)"
                + " VALUES (?, ?, ?, ?, ?, ?::jsonb)",
            id,
            caller.teamId(),
            name,
            version,
            "hf:" + prefix,
            JSON.writeValueAsString(lineage));
      } catch (DuplicateKeyException e) {
        if (tries < 5) continue;
        throw ApiException.conflict("model " + name + " is being registered concurrently; retry");
      }
      try {
        for (Staged s : files.values()) {
          store.putFile(prefix + s.name(), s.path(), s.sha256(), contentType(s.name()));
        }
      } catch (RuntimeException e) {
        jdbc.update("DELETE FROM models WHERE id = ?", id);
        throw e;
      }
      return models.get(caller, id);
    }
  }

  private static long parameters(HfModelConfig c) {
    long n = 0;
    for (long[] s : c.tensors().values()) {
      long k = 1;
      for (long d : s) k *= d;
      n += k;
    }
    return n;
  }

  private static String contentType(String name) {
    return name.endsWith(".json")
        ? "application/json"
        : name.endsWith(".md") ? "text/markdown" : "application/octet-stream";
  }

  private static ApiException invalid(String message, String field) {
    return new ApiException(HttpStatus.UNPROCESSABLE_ENTITY, "invalid-model", message, field);
  }
}
