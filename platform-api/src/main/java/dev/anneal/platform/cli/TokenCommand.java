package dev.anneal.platform.cli;

import dev.anneal.platform.api.auth.ApiTokens;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "token",
    description = {
      "Print a new random API token (anl_…), registered nowhere: give it to a platform as its",
      "bootstrap admin token (anneal.api.bootstrap-token, e.g. from a Kubernetes Secret)."
    })
class TokenCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().println(new ApiTokens(null).generate());
    return 0;
  }
}
