package dev.anneal.platform.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A benchmark on the embedded stack: it checks what it needs beyond the stack, starts the stack
 * with the usual options ({@code --port}, {@code --data-dir}, …), measures, and closes the stack
 * whatever happens. The exit code is the measurement's.
 */
abstract class EmbeddedBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin StartOptions options = new StartOptions();

  /**
   * Whether what the benchmark needs beyond the stack is here; if not, says what on {@code err}.
   */
  boolean ready(PrintWriter err) {
    return true;
  }

  /** Measures on the started stack and prints the figures; returns the exit code. */
  abstract int measure(ConfigurableApplicationContext ctx, PrintWriter out) throws Exception;

  @Override
  public final Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    if (!ready(err)) return 1;
    ConfigurableApplicationContext ctx = options.start(err);
    if (ctx == null) return 1;
    try {
      return measure(ctx, spec.commandLine().getOut());
    } finally {
      ctx.close();
    }
  }
}
