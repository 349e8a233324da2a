package dev.anneal.platform.pipeline;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How the local launcher starts runners ({@code anneal.runner.*}): the runner jar, the folder for
 * job folders (default: {@code jobs/} in the embedded data dir), extra JVM options, and the first
 * wait before a crashed attempt restarts (2 s, doubling with each restart of the stage up to 64
 * times that: one crash costs seconds, a crash loop backs off to minutes).
 */
@ConfigurationProperties("anneal.runner")
public record RunnerProperties(
    @DefaultValue("gpu-runner/engine/target/anneal-runner.jar") String jar,
    String workDir,
    @DefaultValue("") List<String> jvmOptions,
    @DefaultValue("2") long restartBackoffSeconds) {}
