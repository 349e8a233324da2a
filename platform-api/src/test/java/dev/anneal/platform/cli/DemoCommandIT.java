package dev.anneal.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code anneal demo} on the embedded stack with a short pipeline: an injected spike is rolled back
 * and pre-training completes; SFT, the reward model and PPO follow on the micro model, and the
 * summary names the RLHF stage's model as the pipeline's.
 */
class DemoCommandIT {

  @TempDir Path dir;

  @Test
  void theDemoShowsTheRollbackAndEndsWithASummary() throws Exception {
    assumeTrue(
        Files.isRegularFile(Path.of("../gpu-runner/engine/target/anneal-runner.jar")),
        "run the whole build");
    Path spec =
        Files.writeString(
            dir.resolve("short.yaml"),
            """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: short-demo}
        model: {preset: micro}
        tokenizer: {vocabSize: 300}
        datasets:
          - {name: prose, source: "synthetic:prose?docs=300"}
          - {name: chat, source: "synthetic:chat?docs=200"}
          - {name: prefs, source: "synthetic:preferences?docs=100"}
          - {name: prompts, source: "synthetic:prompts?docs=100"}
        stages:
          - kind: pretrain
            data: [{dataset: prose}]
            hyperparameters: {steps: 120, batchSize: 8, seqLen: 32, lr: 0.002}
            checkpoint: {everySteps: 20, keepLast: 10}
            stability: {rollback: {steps: 20}, skipBatches: 30, lrFactor: 0.5, maxRollbacks: 2}
            inject: {spikeAtStep: 80, spikeSteps: 10, spikeLrMultiplier: 300}
          - {kind: sft, from: pretrain, data: [{dataset: chat}], hyperparameters: {steps: 30, batchSize: 8, seqLen: 32}}
          - {kind: reward, from: sft, data: [{dataset: prefs}], hyperparameters: {steps: 5, batchSize: 8, seqLen: 32}}
          - kind: rlhf
            from: sft
            reward: reward
            data: [{dataset: prompts}]
            hyperparameters: {steps: 4, batchSize: 4, seqLen: 40, lr: 0.00003}
            rl: {maxNewTokens: 8, evalEvery: 0}
        """);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = AnnealCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int status =
        cli.execute(
            "demo",
            "--spec",
            spec.toString(),
            "--port",
            "0",
            "--data-dir",
            dir.resolve("data").toString(),
            "--pg-port",
            "0",
            "--temporal-port",
            "0",
            "--s3-port",
            "0",
            "--set",
            "anneal.runner.jar=../gpu-runner/engine/target/anneal-runner.jar",
            "--set",
            "anneal.runner.restart-backoff-seconds=1");
    String text = out.toString();
    assertThat(status).as(text + err).isZero();
    assertThat(text)
        .contains("submitted short-demo")
        .contains("FAULT INJECTION: learning rate x300")
        .contains("rollback 1: loss spike at step")
        .containsPattern("pretrain\\s+succeeded\\s+120\\s+\\S+\\s+1\\s+0\\s+\\d+ s")
        .containsPattern(
            "figures: eval_loss \\d+\\.\\d{3}, final_loss \\d+\\.\\d{3}, perplexity \\d+\\.\\d{3}, steps 120, tokens_per_s \\d+")
        .containsPattern("sft\\s+succeeded\\s+30\\s")
        .contains("exact_match_before")
        .containsPattern("reward\\s+succeeded\\s+5\\s")
        .contains("pairwise_accuracy")
        .containsPattern("rlhf\\s+succeeded\\s+4\\s")
        .contains("mean_reward_before")
        .contains("pipeline SUCCEEDED")
        .containsPattern(
            "final model: s3://anneal/teams/default/pipelines/short-demo-[0-9a-f]{8}/rlhf/checkpoints/step-00000004-a1/");
  }
}
