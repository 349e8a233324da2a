package dev.anneal.runner.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A token set ({@code anneal-tokens/v1}), the form in which every engine reads a dataset once it is
 * tokenized: a directory of shards of raw little-endian ids ({@code uint16}, or {@code uint32} for
 * a vocabulary over 65,536 ids), documents separated by the end-of-text id, and a {@code
 * manifest.json} written last (format, dtype, vocabulary size, end-of-text id, each shard's token
 * count and sha256, and what the writer adds: the dataset's and the tokenizer's sha256). Shards are
 * memory-mapped when read, so memory does not grow with the corpus. Java maps at most 2 GiB in one
 * buffer, so a shard holds at most {@link #MAX_SHARD_BYTES} bytes. The reference engine's {@code
 * anneal_torch/data.py} reads and writes the same format.
 */
public final class TokenShards {

  public static final String FORMAT = "anneal-tokens/v1";
  public static final String MANIFEST = "manifest.json";

  /** The largest shard one {@link MappedByteBuffer} can map. */
  public static final long MAX_SHARD_BYTES = Integer.MAX_VALUE;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<MappedByteBuffer> shards;
  private final long[] starts;
  private final int width;
  private final JsonNode manifest;

  private TokenShards(List<MappedByteBuffer> shards, long[] starts, int width, JsonNode manifest) {
    this.shards = shards;
    this.starts = starts;
    this.width = width;
    this.manifest = manifest;
  }

  /** Something wrong with a token set, saying what and where. */
  public static final class TokenSetException extends RuntimeException {
    public TokenSetException(String message) {
      super(message);
    }
  }

  /**
   * Writes documents as a token set, at most {@code shardTokens} tokens a shard, the manifest last
   * (a directory without one is not a token set); {@code meta} goes into the manifest as given.
   */
  public static JsonNode write(
      Path dir,
      Iterable<int[]> documents,
      int vocabSize,
      int eos,
      long shardTokens,
      Map<String, String> meta)
      throws IOException {
    int width = vocabSize <= 1 << 16 ? 2 : 4;
    if (shardTokens < 1 || shardTokens * width > MAX_SHARD_BYTES) {
      throw new IllegalArgumentException(
          "shardTokens: between 1 and " + MAX_SHARD_BYTES / width + ", got " + shardTokens);
    }
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve(MANIFEST));
    ArrayNode list = JSON.createArrayNode();
    try (ShardWriter w = new ShardWriter(dir, "tokens", width, shardTokens, list)) {
      for (int[] doc : documents) {
        for (int id : doc) w.put(id, vocabSize);
        w.put(eos, vocabSize);
      }
    }
    ObjectNode m = JSON.createObjectNode();
    m.put("format", FORMAT);
    m.put("dtype", width == 2 ? "uint16" : "uint32");
    m.put("vocabSize", vocabSize);
    m.put("eos", eos);
    m.set("shards", list);
    meta.forEach(m::put);
    return commit(dir, m);
  }

  /**
   * Writes examples (an SFT stage's rendered dialogues) as a token set: their ids back to back in
   * the token shards, a parallel uint8 mask a token (1: a target the loss learns), and {@code
   * examples.bin}, the little-endian int64 start of every example and the total, so an engine draws
   * whole examples; the manifest last, with {@code pad}, the id rows are padded with.
   */
  public static JsonNode writeExamples(
      Path dir,
      List<ChatTemplate.Rendered> examples,
      int vocabSize,
      int eos,
      int pad,
      long shardTokens,
      Map<String, String> meta)
      throws IOException {
    int width = vocabSize <= 1 << 16 ? 2 : 4;
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve(MANIFEST));
    ArrayNode tokens = JSON.createArrayNode();
    ArrayNode masks = JSON.createArrayNode();
    ByteBuffer offsets =
        ByteBuffer.allocate(8 * (examples.size() + 1)).order(ByteOrder.LITTLE_ENDIAN);
    long at = 0;
    try (ShardWriter t = new ShardWriter(dir, "tokens", width, shardTokens, tokens);
        ShardWriter m = new ShardWriter(dir, "masks", 1, shardTokens, masks)) {
      for (ChatTemplate.Rendered e : examples) {
        offsets.putLong(at);
        for (int i = 0; i < e.ids().length; i++) {
          t.put(e.ids()[i], vocabSize);
          m.put(e.target()[i] ? 1 : 0, 2);
        }
        at += e.ids().length;
      }
    }
    offsets.putLong(at);
    Files.write(dir.resolve(EXAMPLES), offsets.array());
    ObjectNode m = JSON.createObjectNode();
    m.put("format", FORMAT);
    m.put("dtype", width == 2 ? "uint16" : "uint32");
    m.put("vocabSize", vocabSize);
    m.put("eos", eos);
    m.put("pad", pad);
    m.set("shards", tokens);
    m.set("masks", masks);
    ObjectNode ex = m.putObject("examples");
    ex.put("file", EXAMPLES);
    ex.put("count", examples.size());
    ex.put("sha256", sha256(dir.resolve(EXAMPLES)));
    meta.forEach(m::put);
    return commit(dir, m);
  }

  /** Writes the manifest, last and atomically: the set exists from then on. */
  private static JsonNode commit(Path dir, ObjectNode m) throws IOException {
    Path tmp = dir.resolve(MANIFEST + ".tmp");
    Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
    Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.ATOMIC_MOVE);
    return m;
  }

  /** The file an example set's starts are in. */
  public static final String EXAMPLES = "examples.bin";

  /** Every file a manifest names besides itself: token shards, mask shards, the example starts. */
  public static List<String> files(JsonNode manifest) {
    List<String> out = new ArrayList<>();
    for (JsonNode s : manifest.path("shards")) out.add(s.path("file").asText());
    for (JsonNode s : manifest.path("masks")) out.add(s.path("file").asText());
    if (manifest.has("examples")) out.add(manifest.path("examples").path("file").asText());
    return out;
  }

  /** Opens a token set, checking every shard against the manifest (size and sha256). */
  public static TokenShards open(Path dir) throws IOException {
    JsonNode m;
    try {
      m = JSON.readTree(Files.readAllBytes(dir.resolve(MANIFEST)));
    } catch (NoSuchFileException e) {
      throw new TokenSetException(
          dir + ": no " + MANIFEST + " (an incomplete or missing token set)");
    }
    if (!FORMAT.equals(m.path("format").asText())) {
      throw new TokenSetException(
          dir
              + "/"
              + MANIFEST
              + ": format must be "
              + FORMAT
              + ", got '"
              + m.path("format").asText()
              + "'");
    }
    int width =
        switch (m.path("dtype").asText()) {
          case "uint16" -> 2;
          case "uint32" -> 4;
          default ->
              throw new TokenSetException(
                  dir
                      + "/"
                      + MANIFEST
                      + ": dtype must be uint16 or uint32, got '"
                      + m.path("dtype").asText()
                      + "'");
        };
    List<MappedByteBuffer> maps = new ArrayList<>();
    long[] starts = new long[m.path("shards").size() + 1];
    int i = 0;
    for (JsonNode s : m.path("shards")) {
      Path p = dir.resolve(s.path("file").asText());
      if (!Files.exists(p)) {
        throw new TokenSetException(
            dir + "/" + MANIFEST + ": shard " + s.path("file").asText() + " is missing");
      }
      long tokens = s.path("tokens").asLong();
      if (Files.size(p) != tokens * width) {
        throw new TokenSetException(
            p + ": " + Files.size(p) / width + " tokens, the manifest says " + tokens);
      }
      if (!sha256(p).equals(s.path("sha256").asText())) {
        throw new TokenSetException(p + ": sha256 differs from the manifest's");
      }
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        MappedByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, Files.size(p));
        b.order(ByteOrder.LITTLE_ENDIAN);
        maps.add(b);
      }
      starts[i + 1] = starts[i] + tokens;
      i++;
    }
    for (JsonNode s : m.path("masks")) {
      checkFile(dir, s.path("file").asText(), s.path("tokens").asLong(), s.path("sha256").asText());
    }
    if (m.has("examples")) {
      JsonNode e = m.path("examples");
      checkFile(
          dir,
          e.path("file").asText(),
          8 * (e.path("count").asLong() + 1),
          e.path("sha256").asText());
    }
    return new TokenShards(maps, starts, width, m);
  }

  private static void checkFile(Path dir, String file, long bytes, String sha) throws IOException {
    Path p = dir.resolve(file);
    if (!Files.exists(p)) {
      throw new TokenSetException(dir + "/" + MANIFEST + ": " + file + " is missing");
    }
    if (Files.size(p) != bytes) {
      throw new TokenSetException(p + ": " + Files.size(p) + " bytes, the manifest says " + bytes);
    }
    if (!sha256(p).equals(sha)) {
      throw new TokenSetException(p + ": sha256 differs from the manifest's");
    }
  }

  public long tokens() {
    return starts[starts.length - 1];
  }

  public int vocabSize() {
    return manifest.path("vocabSize").asInt();
  }

  public int eos() {
    return manifest.path("eos").asInt();
  }

  public JsonNode manifest() {
    return manifest;
  }

  /** The token at a global offset. */
  public int get(long offset) {
    if (offset < 0 || offset >= tokens()) {
      throw new IndexOutOfBoundsException("token " + offset + " of " + tokens());
    }
    int s = 0;
    while (starts[s + 1] <= offset) s++;
    int at = Math.toIntExact((offset - starts[s]) * width);
    MappedByteBuffer b = shards.get(s);
    return width == 2 ? Short.toUnsignedInt(b.getShort(at)) : b.getInt(at);
  }

  /** {@code n} tokens from a global offset, across shard boundaries. */
  public int[] window(long offset, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) out[i] = get(offset + i);
    return out;
  }

  static String sha256(Path p) throws IOException {
    MessageDigest d = digest();
    try (var in = Files.newInputStream(p)) {
      byte[] buf = new byte[1 << 16];
      for (int r; (r = in.read(buf)) > 0; ) d.update(buf, 0, r);
    }
    return HexFormat.of().formatHex(d.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Streams ids into numbered shards, hashing each as it is written. */
  private static final class ShardWriter implements AutoCloseable {
    private final Path dir;
    private final String prefix;
    private final int width;
    private final long perShard;
    private final ArrayNode list;
    private final ByteBuffer one;
    private DigestOutputStream out;
    private String name;
    private long inShard;

    ShardWriter(Path dir, String prefix, int width, long perShard, ArrayNode list) {
      this.dir = dir;
      this.prefix = prefix;
      this.width = width;
      this.perShard = perShard;
      this.list = list;
      this.one = ByteBuffer.allocate(width).order(ByteOrder.LITTLE_ENDIAN);
    }

    void put(int id, int vocabSize) throws IOException {
      if (id < 0 || id >= vocabSize) {
        throw new IllegalArgumentException(
            "token id " + id + " is outside the vocabulary of " + vocabSize);
      }
      if (out == null || inShard == perShard) {
        finish();
        name = String.format("%s-%05d.bin", prefix, list.size());
        out =
            new DigestOutputStream(
                new java.io.BufferedOutputStream(Files.newOutputStream(dir.resolve(name)), 1 << 16),
                digest());
        inShard = 0;
      }
      one.clear();
      if (width == 1) one.put((byte) id);
      else if (width == 2) one.putShort((short) id);
      else one.putInt(id);
      out.write(one.array());
      inShard++;
    }

    private void finish() throws IOException {
      if (out == null) return;
      OutputStream o = out;
      o.close();
      ObjectNode s = list.addObject();
      s.put("file", name);
      s.put("tokens", inShard);
      s.put("sha256", HexFormat.of().formatHex(out.getMessageDigest().digest()));
      out = null;
    }

    @Override
    public void close() throws IOException {
      finish();
    }
  }
}
