package dev.anneal.platform.ingest;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code anneal.ingest.secret}: signs the runners' attempt tokens (the embedded stack makes one).
 */
@ConfigurationProperties("anneal.ingest")
public record IngestProperties(String secret) {}
