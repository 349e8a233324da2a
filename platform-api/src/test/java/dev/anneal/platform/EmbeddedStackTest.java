package dev.anneal.platform;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * A test on the whole platform over the embedded stack (PostgreSQL, Temporal, S3 on free ports, a
 * fresh data dir) with the built runner jar. Every class with it shares one Spring context, so one
 * stack serves the suite.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "anneal.embedded.data-dir=target/it-data/${random.uuid}",
      "anneal.embedded.postgres-port=0",
      "anneal.embedded.temporal-port=0",
      "anneal.embedded.s3-port=0",
      "anneal.runner.jar=../gpu-runner/engine/target/anneal-runner.jar"
    })
public @interface EmbeddedStackTest {}
