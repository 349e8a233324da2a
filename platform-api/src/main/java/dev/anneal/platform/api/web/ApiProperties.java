package dev.anneal.platform.api.web;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The API's limits and bootstrap ({@code anneal.api.*}).
 *
 * @param maxBody the largest request body outside dataset uploads (specs, edits)
 * @param maxDataset the largest dataset upload
 * @param maxModelImport the largest model import (all its files in one request)
 * @param bootstrapTeam the operator team made on first start
 * @param bootstrapToken the first admin token, when an operator wants to choose it (a Kubernetes
 *     Secret); otherwise one is generated and printed once
 * @param maxSeriesPoints the most points a metric read returns per series
 * @param sseIntervalMillis how often an event stream looks for new rows
 */
@ConfigurationProperties("anneal.api")
public record ApiProperties(
    @DefaultValue("1MB") DataSize maxBody,
    @DefaultValue("2GB") DataSize maxDataset,
    @DefaultValue("64GB") DataSize maxModelImport,
    @DefaultValue("default") String bootstrapTeam,
    String bootstrapToken,
    @DefaultValue("1500") int maxSeriesPoints,
    @DefaultValue("500") long sseIntervalMillis) {}
