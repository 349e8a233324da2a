package dev.anneal.platform.startup;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a {@link StartupException} into Boot's failure report (description and action), so Boot
 * does not log it as an unexpected error with a stack trace. The CLI silences the report and prints
 * the exception's one line instead.
 */
class StartupFailureAnalyzer extends AbstractFailureAnalyzer<StartupException> {
  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, StartupException cause) {
    String message = cause.getMessage();
    int dash = message.indexOf(" — ");
    return dash < 0
        ? new FailureAnalysis(message, "", cause)
        : new FailureAnalysis(message.substring(0, dash), message.substring(dash + 3), cause);
  }
}
