package dev.anneal.platform;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The Anneal platform: REST API, Temporal client and worker, console. Started by the CLI. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class AnnealApplication {}
