package dev.anneal.runner.ckpt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. Written here for F32 host tensors;
 * read back with every offset checked.
 */
public final class SafeTensors {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A host copy of one tensor. */
  public record HostTensor(long[] shape, float[] data) {
    public HostTensor {
      long n = 1;
      for (long d : shape) n *= d;
      if (n != data.length) {
        throw new IllegalArgumentException("shape and data length disagree");
      }
    }
  }

  private SafeTensors() {}

  public static byte[] write(Map<String, HostTensor> tensors, Map<String, String> metadata) {
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (var e : tensors.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", "F32");
      var shape = t.putArray("shape");
      for (long d : e.getValue().shape()) shape.add(d);
      long bytes = 4L * e.getValue().data().length;
      t.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] headerBytes;
    try {
      headerBytes = JSON.writeValueAsBytes(header);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    int padded = (headerBytes.length + 7) / 8 * 8;
    ByteBuffer buf =
        ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(padded);
    buf.put(headerBytes);
    for (int i = headerBytes.length; i < padded; i++) buf.put((byte) ' ');
    for (HostTensor t : tensors.values()) {
      buf.asFloatBuffer().put(t.data());
      buf.position(buf.position() + 4 * t.data().length);
    }
    return buf.array();
  }

  /** Reads every tensor; {@code what} names the file in error messages. */
  public static Map<String, HostTensor> read(byte[] bytes, String what) {
    if (bytes.length < 8) {
      throw new CheckpointException(
          what + " is not a safetensors file (" + bytes.length + " bytes)");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLen = buf.getLong();
    if (headerLen < 2 || headerLen > bytes.length - 8) {
      throw new CheckpointException(
          what + ": header length " + headerLen + " does not fit the file");
    }
    JsonNode header;
    try {
      header = JSON.readTree(new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new CheckpointException(what + ": header is not JSON (" + e.getMessage() + ")");
    }
    long dataStart = 8 + headerLen;
    Map<String, HostTensor> out = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = header.fields();
    while (it.hasNext()) {
      var e = it.next();
      if (e.getKey().equals("__metadata__")) continue;
      JsonNode t = e.getValue();
      if (!"F32".equals(t.path("dtype").asText())) {
        throw new CheckpointException(
            what
                + ": tensor "
                + e.getKey()
                + " has dtype "
                + t.path("dtype").asText()
                + "; this reader takes F32");
      }
      long[] shape = new long[t.path("shape").size()];
      long n = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = t.path("shape").get(i).asLong();
        n *= shape[i];
      }
      long begin = t.path("data_offsets").get(0).asLong();
      long end = t.path("data_offsets").get(1).asLong();
      if (begin < 0 || end < begin || end - begin != 4 * n || dataStart + end > bytes.length) {
        throw new CheckpointException(
            what + ": tensor " + e.getKey() + " has inconsistent offsets");
      }
      float[] data = new float[(int) n];
      ByteBuffer slice =
          ByteBuffer.wrap(bytes, (int) (dataStart + begin), (int) (end - begin))
              .order(ByteOrder.LITTLE_ENDIAN);
      slice.asFloatBuffer().get(data);
      out.put(e.getKey(), new HostTensor(shape, data));
    }
    return out;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) out.writeBytes(p);
    return out.toByteArray();
  }
}
