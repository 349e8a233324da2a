package dev.anneal.platform.temporal;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/** Where Temporal is ({@code anneal.temporal.*}); the embedded stack fills in the target. */
@ConfigurationProperties("anneal.temporal")
public record TemporalProperties(
    @DefaultValue("127.0.0.1:7233") String target,
    @DefaultValue("default") String namespace,
    @DefaultValue("true") boolean workerEnabled) {}
