package dev.anneal.protocol;

import java.util.Locale;
import java.util.Map;

/**
 * How a finished stage writes its Hugging Face {@code hf/} export: {@code dtype} {@code float32}
 * (the default, the master weights as they are) or {@code bfloat16} (each weight rounded to the
 * nearest bfloat16: half the bytes, what the Hub's checkpoints mostly hold), and {@code
 * maxShardSize}, above which the weights are split into shards with a {@code
 * model.safetensors.index.json}, as {@code save_pretrained(max_shard_size=…)} does ({@code 5GB} by
 * default; {@code KB}, {@code MB}, {@code GB} are powers of 1000, {@code KiB}, {@code MiB}, {@code
 * GiB} of 1024). {@code license} (an SPDX-style id such as {@code apache-2.0}; by default the
 * pipeline's {@code metadata.labels.license}) and {@code baseModel} (a Hub id such as {@code
 * Qwen/Qwen3-0.6B} for an imported model; by default what the stage started from) go into the
 * export's model card.
 */
public record ExportConfig(String dtype, String maxShardSize, String license, String baseModel) {

  private static final Map<String, Long> UNITS =
      Map.of(
          "B", 1L,
          "KB", 1_000L,
          "MB", 1_000_000L,
          "GB", 1_000_000_000L,
          "KIB", 1L << 10,
          "MIB", 1L << 20,
          "GIB", 1L << 30);

  public ExportConfig {
    dtype = Checks.orDefault(dtype, "float32");
    maxShardSize = Checks.orDefault(maxShardSize, "5GB");
    if (!dtype.equals("float32") && !dtype.equals("bfloat16")) {
      throw new IllegalArgumentException(
          "dtype: must be 'float32' or 'bfloat16', got '" + dtype + "'");
    }
    bytes(maxShardSize);
    if (baseModel != null && !baseModel.matches("[A-Za-z0-9._@:/-]{1,200}")) {
      throw new IllegalArgumentException(
          "baseModel: a model id such as Qwen/Qwen3-0.6B, got '" + baseModel + "'");
    }
    if (license != null && !license.matches("[A-Za-z0-9.+-]{1,64}")) {
      throw new IllegalArgumentException(
          "license: an SPDX-style id such as apache-2.0 or mit, got '" + license + "'");
    }
  }

  public static ExportConfig defaults() {
    return new ExportConfig(null, null, null, null);
  }

  /** This config, with {@code license} and {@code baseModel} filled where they are not given. */
  public ExportConfig orDefaults(String defaultLicense, String defaultBaseModel) {
    return new ExportConfig(
        dtype,
        maxShardSize,
        license != null ? license : defaultLicense,
        baseModel != null ? baseModel : defaultBaseModel);
  }

  public boolean bf16() {
    return dtype.equals("bfloat16");
  }

  /** {@code maxShardSize} in bytes. */
  public long maxShardBytes() {
    return bytes(maxShardSize);
  }

  private static long bytes(String size) {
    var m = java.util.regex.Pattern.compile("(\\d+)\\s*([A-Za-z]*)").matcher(size.trim());
    Long unit = null;
    if (m.matches())
      unit = UNITS.get(m.group(2).isEmpty() ? "B" : m.group(2).toUpperCase(Locale.ROOT));
    if (unit == null || Long.parseLong(m.group(1)) <= 0) {
      throw new IllegalArgumentException(
          "maxShardSize: a size such as 500MB, 5GB or 2GiB, got '" + size + "'");
    }
    return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
  }
}
