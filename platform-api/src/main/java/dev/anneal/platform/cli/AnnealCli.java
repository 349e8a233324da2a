package dev.anneal.platform.cli;

import dev.anneal.platform.chaos.ChaosCommand;
import dev.anneal.platform.cli.client.ClientCommands;
import dev.anneal.platform.cli.client.RegistryCommands;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code anneal} command. Subcommands are small classes registered here; each returns a process
 * exit status. {@code serve} keeps the JVM alive after it returns 0 (the web server's threads are
 * not daemons); everything else exits.
 */
@Command(
    name = "anneal",
    mixinStandardHelpOptions = true,
    versionProvider = BuildInfo.class,
    description = "Workflow-orchestrated training of language models: pretrain, SFT, RM, RLHF.",
    subcommands = {
      ServeCommand.class,
      DemoCommand.class,
      BenchOrchestrationCommand.class,
      BenchApiCommand.class,
      ChaosCommand.class,
      ClientCommands.Login.class,
      ClientCommands.Submit.class,
      ClientCommands.ListPipelines.class,
      ClientCommands.Status.class,
      ClientCommands.Watch.class,
      ClientCommands.Logs.class,
      ClientCommands.Cancel.class,
      RegistryCommands.Datasets.class,
      RegistryCommands.Models.class,
      TokenCommand.class,
      MigrateCommand.class,
      VersionCommand.class,
      CommandLine.HelpCommand.class
    })
public class AnnealCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static CommandLine commandLine() {
    return new CommandLine(new AnnealCli()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  public static void main(String[] args) {
    int status = commandLine().execute(args);
    if (status != 0) {
      System.exit(status);
    }
  }
}
