package org.apache.parquet;

import java.util.HashMap;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.format.converter.ParquetMetadataConverter;

/**
 * Read options built without Hadoop. parquet-java's public {@code ParquetReadOptions.Builder} makes
 * a Hadoop codec factory in its constructor, even when another is given later, so a reader without
 * Hadoop on the class path cannot use it; this class (in parquet's package, for the package-private
 * constructor the builder calls) passes the builder's defaults and Anneal's codecs. Written against
 * parquet-java 1.18.2: a new version's constructor is checked at compile time.
 */
public final class HadoopFreeReadOptions {
  private static final int MAX_ALLOCATION = 8 << 20;

  private HadoopFreeReadOptions() {}

  public static ParquetReadOptions of(CompressionCodecFactory codecs) {
    return new ParquetReadOptions(
        false, // useSignedStringMinMax
        true, // useStatsFilter
        true, // useDictionaryFilter
        true, // useRecordFilter
        true, // useColumnIndexFilter
        true, // usePageChecksumVerification: a page's CRC, where the writer gave one, is checked
        true, // useBloomFilter
        false, // useOffHeapDecryptBuffer
        false, // useHadoopVectoredIo
        null, // recordFilter
        ParquetMetadataConverter.NO_FILTER,
        codecs,
        new HeapByteBufferAllocator(),
        MAX_ALLOCATION,
        new HashMap<>(),
        null, // fileDecryptionProperties: encrypted files are refused
        null, // metricsCallback
        new PlainParquetConfiguration());
  }
}
