package dev.anneal.datafiles;

import io.airlift.compress.Decompressor;
import io.airlift.compress.MalformedInputException;
import io.airlift.compress.lz4.Lz4Decompressor;
import io.airlift.compress.snappy.SnappyDecompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * The page codecs a Parquet dataset may use, in pure Java and without Hadoop: SNAPPY, ZSTD and
 * LZ4_RAW from aircompressor, GZIP from the JDK, and UNCOMPRESSED. Read only. Anything else (LZO,
 * BROTLI, Hadoop's framed LZ4) is refused naming the codec.
 */
final class ParquetCodecs implements CompressionCodecFactory {

  /** A page compressed with a codec this reader does not have. */
  static final class UnsupportedCodec extends IOException {
    UnsupportedCodec(CompressionCodecName codec) {
      super(
          "pages are compressed with "
              + codec
              + ", which is not supported (SNAPPY, ZSTD, GZIP, LZ4_RAW or UNCOMPRESSED)");
    }
  }

  @Override
  public BytesInputCompressor getCompressor(CompressionCodecName codec) {
    throw new UnsupportedOperationException("datasets are read, never written, here");
  }

  @Override
  public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
    switch (codec) {
      case UNCOMPRESSED:
        return new Pages(codec, null);
      case SNAPPY:
        return new Pages(codec, new SnappyDecompressor());
      case ZSTD:
        return new Pages(codec, new ZstdDecompressor());
      case LZ4_RAW:
        return new Pages(codec, new Lz4Decompressor());
      case GZIP:
        return new Pages(codec, null);
      default:
        return new Refused(codec);
    }
  }

  @Override
  public void release() {}

  /** One codec's pages: every page decompressed into a heap array of its stated size. */
  private static final class Pages implements BytesInputDecompressor {
    private final CompressionCodecName codec;
    private final Decompressor block;

    Pages(CompressionCodecName codec, Decompressor block) {
      this.codec = codec;
      this.block = block;
    }

    @Override
    public BytesInput decompress(BytesInput bytes, int size) throws IOException {
      if (codec == CompressionCodecName.UNCOMPRESSED) return bytes;
      byte[] in = bytes.toByteArray();
      byte[] out = new byte[size];
      if (codec == CompressionCodecName.GZIP) {
        try (InputStream z = new GZIPInputStream(new ByteArrayInputStream(in))) {
          int n = z.readNBytes(out, 0, size);
          if (n != size) throw new IOException("a GZIP page holds " + n + " bytes, not " + size);
        }
        return BytesInput.from(out);
      }
      try {
        int n = block.decompress(in, 0, in.length, out, 0, size);
        if (n != size) {
          throw new IOException("a " + codec + " page holds " + n + " bytes, not " + size);
        }
      } catch (MalformedInputException e) {
        throw new IOException("a " + codec + " page is corrupt: " + e.getMessage(), e);
      }
      return BytesInput.from(out);
    }

    @Override
    public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int size)
        throws IOException {
      byte[] in = new byte[compressedSize];
      input.get(in);
      output.put(decompress(BytesInput.from(in), size).toByteBuffer());
    }

    @Override
    public void release() {}
  }

  private static final class Refused implements BytesInputDecompressor {
    private final CompressionCodecName codec;

    Refused(CompressionCodecName codec) {
      this.codec = codec;
    }

    @Override
    public BytesInput decompress(BytesInput bytes, int size) throws IOException {
      throw new UnsupportedCodec(codec);
    }

    @Override
    public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int size)
        throws IOException {
      throw new UnsupportedCodec(codec);
    }

    @Override
    public void release() {}
  }
}
