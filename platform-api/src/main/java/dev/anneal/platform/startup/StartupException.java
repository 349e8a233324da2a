package dev.anneal.platform.startup;

/**
 * The platform cannot start because of something a person can fix. The message is one line that
 * names the component, the address and what to do; the CLI prints it without a stack trace.
 */
public class StartupException extends RuntimeException {
  private final String component;

  public StartupException(String component, String problem, String action, Throwable cause) {
    super(component + ": " + problem + " — " + action, cause);
    this.component = component;
  }

  public String component() {
    return component;
  }
}
