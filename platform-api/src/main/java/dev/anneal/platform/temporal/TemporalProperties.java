package dev.anneal.platform.temporal;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where Temporal is ({@code anneal.temporal.*}); the embedded stack fills in the target. With
 * {@code tlsCert} and {@code tlsKey} (PEM files: a client certificate and its PKCS#8 key) the
 * connection is mutual TLS, as Temporal Cloud and secured clusters require.
 */
@ConfigurationProperties("anneal.temporal")
public record TemporalProperties(
    @DefaultValue("127.0.0.1:7233") String target,
    @DefaultValue("default") String namespace,
    @DefaultValue("true") boolean workerEnabled,
    String tlsCert,
    String tlsKey) {}
