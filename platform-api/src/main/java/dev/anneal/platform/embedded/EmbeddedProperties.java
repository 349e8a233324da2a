package dev.anneal.platform.embedded;

import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The embedded stack ({@code anneal.embedded.*}): real PostgreSQL, Temporal's port-bound server and
 * an S3 server in this JVM, with their data under {@code dataDir}. A port of 0 picks a free one
 * (tests do this). {@code s3Endpoint}, when set, is the address the platform and its runners use
 * for that S3 server instead of its own bind address: a proxy in front of it (the chaos benchmark
 * puts one there to cut S3 off).
 */
@ConfigurationProperties("anneal.embedded")
public record EmbeddedProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue(".anneal") Path dataDir,
    @DefaultValue("127.0.0.1") String bindAddress,
    @DefaultValue("15432") int postgresPort,
    @DefaultValue("7233") int temporalPort,
    @DefaultValue("9000") int s3Port,
    @DefaultValue("anneal") String bucket,
    String s3Endpoint) {}
