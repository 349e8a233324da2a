package dev.anneal.workflows.api.jobs;

import dev.anneal.protocol.Sha256;
import java.util.regex.Pattern;

/**
 * Deterministic job names: the same (workflow, attempt) always gives the same name, so a retried
 * launch finds the job it already made instead of starting a twin. Names are valid Kubernetes
 * object names (DNS-1123 labels, at most 63 characters).
 */
public final class JobNames {
  private static final Pattern DNS1123 = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  private JobNames() {}

  public static String of(String workflowId, int attempt) {
    String readable =
        workflowId.toLowerCase().replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    String hash = sha256(workflowId + "#" + attempt).substring(0, 10);
    String prefix = "anneal-" + (readable.length() > 36 ? readable.substring(0, 36) : readable);
    return (prefix + "-a" + attempt + "-" + hash).replaceAll("-+", "-");
  }

  /** The attempt number in a name {@link #of} made; -1 for any other name. */
  public static int attemptOf(String jobName) {
    java.util.regex.Matcher m = Pattern.compile("-a(\\d+)-[0-9a-f]{10}$").matcher(jobName);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  static String check(String name) {
    if (name == null || !DNS1123.matcher(name).matches()) {
      throw new IllegalArgumentException("jobName: '" + name + "' is not a valid DNS-1123 label");
    }
    return name;
  }

  private static String sha256(String s) {
    return Sha256.hex(s);
  }
}
