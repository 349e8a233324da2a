package dev.anneal.runner.ckpt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A model's weights as Hugging Face keeps them: one {@code model.safetensors}, or shards named in
 * {@code model.safetensors.index.json} ({@code {"metadata": {"total_size": …}, "weight_map":
 * {tensor: shard file}}}), as {@code save_pretrained} writes above its shard size.
 */
public final class ModelWeights {

  public static final String SINGLE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelWeights() {}

  /**
   * The shard files an index names, in order; {@code where} names the directory in errors. A
   * shard's name must be a plain file name (no directory, no {@code ..}).
   */
  public static List<String> shards(byte[] index, String where) {
    JsonNode map = weightMap(index, where);
    TreeSet<String> files = new TreeSet<>();
    map.fields()
        .forEachRemaining(
            e -> {
              String f = e.getValue().asText("");
              if (!f.matches("[A-Za-z0-9._-]+\\.safetensors") || f.contains("..")) {
                throw new CheckpointException(
                    where
                        + "/"
                        + INDEX
                        + ": weight_map."
                        + e.getKey()
                        + " names '"
                        + f
                        + "', not a .safetensors file in the directory");
              }
              files.add(f);
            });
    return new ArrayList<>(files);
  }

  private static JsonNode weightMap(byte[] index, String where) {
    JsonNode n;
    try {
      n = JSON.readTree(index);
    } catch (IOException e) {
      throw new CheckpointException(where + "/" + INDEX + ": not JSON (" + e.getMessage() + ")");
    }
    JsonNode map = n == null ? null : n.get("weight_map");
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw new CheckpointException(where + "/" + INDEX + ": has no weight_map");
    }
    return map;
  }

  /**
   * Every tensor of a directory's files, by name: from {@code model.safetensors}, or from the
   * shards the index names, each tensor in the shard the index says and in no other.
   */
  public static Map<String, SafeTensors.HostTensor> read(Map<String, byte[]> files, String where) {
    byte[] index = files.get(INDEX);
    if (index == null) {
      byte[] single = files.get(SINGLE);
      if (single == null) {
        throw new CheckpointException(where + ": has neither " + SINGLE + " nor " + INDEX);
      }
      return SafeTensors.read(single, where + "/" + SINGLE);
    }
    JsonNode map = weightMap(index, where);
    Map<String, SafeTensors.HostTensor> out = new LinkedHashMap<>();
    for (String shard : shards(index, where)) {
      byte[] bytes = files.get(shard);
      if (bytes == null) {
        throw new CheckpointException(
            where + ": " + INDEX + " names " + shard + ", which is missing");
      }
      for (var e : SafeTensors.read(bytes, where + "/" + shard).entrySet()) {
        String named = map.path(e.getKey()).asText(null);
        if (!shard.equals(named)) {
          throw new CheckpointException(
              where
                  + "/"
                  + shard
                  + ": holds "
                  + e.getKey()
                  + ", which "
                  + INDEX
                  + (named == null ? " does not name" : " places in " + named));
        }
        out.put(e.getKey(), e.getValue());
      }
    }
    Iterator<String> names = map.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!out.containsKey(name)) {
        throw new CheckpointException(
            where + ": " + name + " is in " + INDEX + " but not in " + map.get(name).asText());
      }
    }
    return out;
  }

  /**
   * The files of {@code weights}: one {@code model.safetensors} when it stays under {@code
   * maxShardBytes}, else {@code model-0000i-of-0000n.safetensors} shards (tensors in name order, a
   * new shard when the next would pass the size) and their index.
   */
  public static Map<String, byte[]> write(
      Map<String, SafeTensors.HostTensor> weights, boolean bf16, long maxShardBytes) {
    int width = bf16 ? 2 : 4;
    List<Map<String, SafeTensors.HostTensor>> shards = new ArrayList<>();
    Map<String, SafeTensors.HostTensor> current = new TreeMap<>();
    long size = 0;
    long total = 0;
    for (var e : new TreeMap<>(weights).entrySet()) {
      long bytes = (long) width * e.getValue().data().length;
      if (!current.isEmpty() && size + bytes > maxShardBytes) {
        shards.add(current);
        current = new TreeMap<>();
        size = 0;
      }
      current.put(e.getKey(), e.getValue());
      size += bytes;
      total += bytes;
    }
    shards.add(current);
    Map<String, byte[]> files = new LinkedHashMap<>();
    Map<String, String> meta = Map.of("format", "pt");
    if (shards.size() == 1) {
      files.put(SINGLE, SafeTensors.write(shards.get(0), meta, bf16));
      return files;
    }
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", total);
    ObjectNode map = index.putObject("weight_map");
    for (int i = 0; i < shards.size(); i++) {
      String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
      files.put(name, SafeTensors.write(shards.get(i), meta, bf16));
      for (String t : shards.get(i).keySet()) map.put(t, name);
    }
    try {
      files.put(INDEX, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return files;
  }

  /** Whether {@code name} is one of the weight files of a directory. */
  public static boolean isWeightFile(String name) {
    return name.equals(INDEX) || name.endsWith(".safetensors");
  }
}
