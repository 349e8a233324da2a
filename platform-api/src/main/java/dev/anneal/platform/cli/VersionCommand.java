package dev.anneal.platform.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "version", description = "Print Anneal's version, build time and Java runtime.")
class VersionCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    for (String line : new BuildInfo().getVersion()) {
      spec.commandLine().getOut().println(line);
    }
    return 0;
  }
}
