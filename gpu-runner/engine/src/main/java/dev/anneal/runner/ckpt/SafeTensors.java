package dev.anneal.runner.ckpt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.protocol.SafeTensorsHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the raw little-endian data. Written here for F32 host tensors
 * (or BF16, rounded to nearest even); read back with every offset checked, F32, BF16 and F16 alike,
 * the half-width types widened to float32 on the host (the DJL CPU build aborts on BFLOAT16 arrays,
 * and the engine's master weights are float32 anyway).
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
    return write(tensors, metadata, false);
  }

  /** Writes F32, or BF16 (each value rounded to the nearest bfloat16) when {@code bf16}. */
  public static byte[] write(
      Map<String, HostTensor> tensors, Map<String, String> metadata, boolean bf16) {
    int width = bf16 ? 2 : 4;
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (var e : tensors.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", bf16 ? "BF16" : "F32");
      var shape = t.putArray("shape");
      for (long d : e.getValue().shape()) shape.add(d);
      long bytes = (long) width * e.getValue().data().length;
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
      if (bf16) {
        for (float f : t.data()) buf.putShort(floatToBf16(f));
      } else {
        buf.asFloatBuffer().put(t.data());
        buf.position(buf.position() + 4 * t.data().length);
      }
    }
    return buf.array();
  }

  /** Reads every tensor; {@code what} names the file in error messages. */
  public static Map<String, HostTensor> read(byte[] bytes, String what) {
    SafeTensorsHeader.Header header;
    try {
      header = SafeTensorsHeader.read(new ByteArrayInputStream(bytes), bytes.length, what);
    } catch (IllegalArgumentException | IOException e) {
      throw new CheckpointException(e.getMessage());
    }
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (var e : header.tensors().entrySet()) {
      SafeTensorsHeader.Entry t = e.getValue();
      long n = 1;
      for (long d : t.shape()) n *= d;
      float[] data = new float[Math.toIntExact(n)];
      ByteBuffer slice =
          ByteBuffer.wrap(
                  bytes,
                  Math.toIntExact(header.dataStart() + t.begin()),
                  (int) (t.end() - t.begin()))
              .order(ByteOrder.LITTLE_ENDIAN);
      switch (t.dtype()) {
        case "F32" -> slice.asFloatBuffer().get(data);
        case "BF16" -> {
          for (int i = 0; i < data.length; i++) data[i] = bf16ToFloat(slice.getShort());
        }
        default -> {
          for (int i = 0; i < data.length; i++) data[i] = f16ToFloat(slice.getShort());
        }
      }
      out.put(e.getKey(), new HostTensor(t.shape(), data));
    }
    return out;
  }

  /** A bfloat16 is the upper half of a float32. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** The nearest bfloat16 (ties to even; NaN stays NaN). */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
    int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
    return (short) (rounded >>> 16);
  }

  /** IEEE 754 half precision to float32, subnormals, infinities and NaN included. */
  public static float f16ToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    if (exp == 0) {
      if (mant == 0) return Float.intBitsToFloat(sign);
      float sub = mant / 1024f / 16384f; // mant * 2^-24
      return sign == 0 ? sub : -sub;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) out.writeBytes(p);
    return out.toByteArray();
  }
}
