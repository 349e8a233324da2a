package dev.anneal.runner.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's byte-level alphabet and pre-tokenizer, as the Hugging Face {@code ByteLevel}
 * pre-tokenizer defines them: every byte maps to one printable character, and text is split by the
 * GPT-2 pattern before BPE.
 */
final class ByteLevel {

  static final Pattern GPT2_SPLIT =
      Pattern.compile(
          "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[512];

  static {
    List<Integer> bs = new ArrayList<>();
    for (int b = '!'; b <= '~'; b++) bs.add(b);
    for (int b = 0xA1; b <= 0xAC; b++) bs.add(b);
    for (int b = 0xAE; b <= 0xFF; b++) bs.add(b);
    List<Integer> cs = new ArrayList<>(bs);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (!bs.contains(b)) {
        bs.add(b);
        cs.add(256 + n);
        n++;
      }
    }
    java.util.Arrays.fill(CHAR_TO_BYTE, -1);
    for (int i = 0; i < bs.size(); i++) {
      BYTE_TO_CHAR[bs.get(i)] = (char) (int) cs.get(i);
      CHAR_TO_BYTE[cs.get(i)] = bs.get(i);
    }
  }

  private ByteLevel() {}

  /** The 256 alphabet characters, in byte order. */
  static char[] alphabet() {
    return BYTE_TO_CHAR.clone();
  }

  /** Splits text with the GPT-2 pattern and maps each piece's UTF-8 bytes to the alphabet. */
  static List<String> preTokenize(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = GPT2_SPLIT.matcher(text);
    while (m.find()) {
      out.add(toAlphabet(m.group()));
    }
    return out;
  }

  static String toAlphabet(String piece) {
    byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
    char[] chars = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
    }
    return new String(chars);
  }

  /** Maps alphabet characters back to bytes and decodes UTF-8 (invalid sequences become U+FFFD). */
  static String fromAlphabet(String s) {
    byte[] bytes = new byte[s.length()];
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
      if (b >= 0) {
        bytes[n++] = (byte) b;
      }
    }
    return new String(bytes, 0, n, StandardCharsets.UTF_8);
  }
}
