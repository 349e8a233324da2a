package dev.anneal.platform.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** The version Maven's build-info goal recorded in the jar. */
final class BuildInfo implements CommandLine.IVersionProvider {

  private static final Properties PROPERTIES = load();

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("/META-INF/build-info.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // an unreadable resource is the same as none: a development build
    }
    return p;
  }

  static String version() {
    return PROPERTIES.getProperty("build.version", "development build");
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "anneal " + version(),
      "built " + PROPERTIES.getProperty("build.time", "unknown"),
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
    };
  }
}
