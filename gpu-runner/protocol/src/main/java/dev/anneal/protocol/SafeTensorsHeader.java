package dev.anneal.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The header of a safetensors file, read without its data (a shard of many GB is checked from its
 * first bytes and its size): each tensor's dtype, shape and byte range, every range checked to lie
 * in the file, to match its dtype and shape, and not to overlap another.
 */
public final class SafeTensorsHeader {

  /** One tensor's entry; {@code begin} and {@code end} count from the start of the data. */
  public record Entry(String dtype, long[] shape, long begin, long end) {}

  /** The tensors, in header order, and where their data starts in the file. */
  public record Header(long dataStart, Map<String, Entry> tensors) {}

  /** The widths of the dtypes the engine reads. */
  public static final Map<String, Integer> WIDTHS = Map.of("F32", 4, "BF16", 2, "F16", 2);

  /** Headers above this are refused rather than read into memory. */
  static final long MAX_HEADER = 100L << 20;

  private SafeTensorsHeader() {}

  /**
   * Reads the header from the start of {@code in}; {@code fileSize} is the whole file's, {@code
   * what} names it in errors.
   */
  public static Header read(InputStream in, long fileSize, String what) throws IOException {
    byte[] len = in.readNBytes(8);
    if (len.length < 8) {
      throw new IllegalArgumentException(
          what + ": not a safetensors file (" + fileSize + " bytes)");
    }
    long headerLen = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > fileSize - 8) {
      throw new IllegalArgumentException(
          what + ": header length " + headerLen + " does not fit the file");
    }
    byte[] header = in.readNBytes((int) headerLen);
    JsonNode root;
    try {
      root = ProtocolJson.mapper().readTree(new String(header, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalArgumentException(what + ": header is not JSON (" + e.getMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(what + ": header is not a JSON object");
    }
    long data = fileSize - 8 - headerLen;
    Map<String, Entry> out = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = root.fields();
    while (it.hasNext()) {
      var e = it.next();
      if (e.getKey().equals("__metadata__")) continue;
      JsonNode t = e.getValue();
      String dtype = t.path("dtype").asText();
      Integer width = WIDTHS.get(dtype);
      if (width == null) {
        throw new IllegalArgumentException(
            what + ": tensor " + e.getKey() + " has dtype " + dtype + " (F32, BF16 and F16 load)");
      }
      long[] shape = new long[t.path("shape").size()];
      long n = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = t.path("shape").get(i).asLong(-1);
        if (shape[i] < 0) {
          throw new IllegalArgumentException(what + ": tensor " + e.getKey() + " has a bad shape");
        }
        n *= shape[i];
      }
      long begin = t.path("data_offsets").path(0).asLong(-1);
      long end = t.path("data_offsets").path(1).asLong(-1);
      if (begin < 0 || end < begin || end - begin != width * n || end > data) {
        throw new IllegalArgumentException(
            what + ": tensor " + e.getKey() + " has offsets that do not fit its shape or the file");
      }
      out.put(e.getKey(), new Entry(dtype, shape, begin, end));
    }
    long[][] ranges =
        out.values().stream()
            .map(x -> new long[] {x.begin(), x.end()})
            .sorted((a, b) -> Long.compare(a[0], b[0]))
            .toArray(long[][]::new);
    for (int i = 1; i < ranges.length; i++) {
      if (ranges[i][0] < ranges[i - 1][1]) {
        throw new IllegalArgumentException(what + ": tensors overlap in the data");
      }
    }
    return new Header(8 + headerLen, out);
  }
}
