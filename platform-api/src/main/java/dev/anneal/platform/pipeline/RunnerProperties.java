package dev.anneal.platform.pipeline;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How the local launcher starts runners ({@code anneal.runner.*}): the runner jar, the folder for
 * job folders (default: {@code jobs/} in the embedded data dir), extra JVM options.
 */
@ConfigurationProperties("anneal.runner")
public record RunnerProperties(
    @DefaultValue("gpu-runner/engine/target/anneal-runner.jar") String jar,
    String workDir,
    @DefaultValue("") List<String> jvmOptions,
    @DefaultValue("30") long restartBackoffSeconds) {}
