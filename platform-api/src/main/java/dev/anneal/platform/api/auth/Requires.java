package dev.anneal.platform.api.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The scope an endpoint needs. Without it, GET needs {@code read} and every other method {@code
 * submit}. {@code operator} endpoints also need the caller's team to be an operator team.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Requires {
  Scope value();

  boolean operator() default false;
}
