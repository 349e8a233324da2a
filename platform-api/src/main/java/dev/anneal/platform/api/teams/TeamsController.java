package dev.anneal.platform.api.teams;

import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.ApiTokens;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.auth.Requires;
import dev.anneal.platform.api.auth.Scope;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** Teams, members, API tokens, quotas and usage. */
@RestController
@RequestMapping("/api/v1")
@Tag(name = "teams", description = "teams, members, API tokens, quotas and usage")
public class TeamsController {
  private final Teams teams;
  private final ApiTokens tokens;

  public TeamsController(Teams teams, ApiTokens tokens) {
    this.teams = teams;
    this.tokens = tokens;
  }

  /** Who the token belongs to. */
  public record Me(String team, boolean operator, List<String> scopes, String tokenPrefix) {}

  public record TeamRequest(
      String name, String displayName, Integer maxConcurrentPipelines, BigDecimal gpuHoursQuota) {}

  public record MemberRequest(String email, String role) {}

  public record TokenRequest(String name, List<String> scopes, Instant expiresAt) {}

  @GetMapping("/me")
  @Operation(summary = "The calling token: its team and scopes")
  public Me me(Caller caller) {
    return new Me(
        caller.team(),
        caller.operator(),
        caller.scopes().stream().sorted().map(Scope::id).toList(),
        caller.tokenPrefix());
  }

  @GetMapping("/teams")
  @Operation(summary = "Teams the caller can see: its own (an operator sees all)")
  public Map<String, List<Teams.Team>> list(Caller caller) {
    return Map.of("teams", teams.list(caller));
  }

  @PostMapping("/teams")
  @Requires(value = Scope.ADMIN, operator = true)
  @Operation(summary = "Create a team (operators only)")
  public ResponseEntity<Teams.Team> create(Caller caller, @RequestBody TeamRequest body) {
    if (body == null) throw ApiException.badRequest("a JSON body {name, ...} is required", "");
    return ResponseEntity.status(HttpStatus.CREATED)
        .body(
            teams.create(
                body.name(),
                body.displayName(),
                body.maxConcurrentPipelines(),
                body.gpuHoursQuota(),
                false));
  }

  @GetMapping("/teams/{team}")
  @Operation(summary = "One team, with its quotas")
  public Teams.Team get(Caller caller, @PathVariable String team) {
    return teams.visible(caller, team);
  }

  @PatchMapping("/teams/{team}")
  @Requires(value = Scope.ADMIN, operator = true)
  @Operation(summary = "Change a team's display name or quotas (operators only)")
  public Teams.Team update(
      Caller caller, @PathVariable String team, @RequestBody TeamRequest body) {
    Teams.Team t = teams.visible(caller, team);
    if (body.name() != null && !body.name().equals(t.name())) {
      throw ApiException.badRequest("name: a team cannot be renamed", "name");
    }
    return teams.update(t, body.displayName(), body.maxConcurrentPipelines(), body.gpuHoursQuota());
  }

  @GetMapping("/teams/{team}/usage")
  @Operation(summary = "Active pipelines and GPU-hours used, against the team's quotas")
  public Teams.Usage usage(Caller caller, @PathVariable String team) {
    return teams.usage(teams.visible(caller, team));
  }

  @GetMapping("/teams/{team}/members")
  @Operation(summary = "The team's members")
  public Map<String, List<Teams.Member>> members(Caller caller, @PathVariable String team) {
    return Map.of("members", teams.members(teams.visible(caller, team).id()));
  }

  @PostMapping("/teams/{team}/members")
  @Requires(Scope.ADMIN)
  @Operation(summary = "Add a member (or change a member's role)")
  public ResponseEntity<Teams.Member> addMember(
      Caller caller, @PathVariable String team, @RequestBody MemberRequest body) {
    Teams.Team t = teams.visible(caller, team);
    return ResponseEntity.status(HttpStatus.CREATED)
        .body(teams.addMember(t.id(), body.email(), body.role()));
  }

  @DeleteMapping("/teams/{team}/members/{email}")
  @Requires(Scope.ADMIN)
  @Operation(summary = "Remove a member")
  public ResponseEntity<Void> removeMember(
      Caller caller, @PathVariable String team, @PathVariable String email) {
    Teams.Team t = teams.visible(caller, team);
    if (!teams.removeMember(t.id(), email)) throw ApiException.notFound("member", email);
    return ResponseEntity.noContent().build();
  }

  @GetMapping("/teams/{team}/tokens")
  @Requires(Scope.ADMIN)
  @Operation(summary = "The team's API tokens (never their secrets)")
  public Map<String, List<ApiTokens.TokenInfo>> tokens(Caller caller, @PathVariable String team) {
    return Map.of("tokens", tokens.list(teams.visible(caller, team).id()));
  }

  @PostMapping("/teams/{team}/tokens")
  @Requires(Scope.ADMIN)
  @Operation(summary = "Make a token; its secret is in this answer only")
  public ResponseEntity<ApiTokens.NewToken> createToken(
      Caller caller, @PathVariable String team, @RequestBody TokenRequest body) {
    Teams.Team t = teams.visible(caller, team);
    Set<Scope> scopes = EnumSet.noneOf(Scope.class);
    if (body.scopes() != null) {
      for (int i = 0; i < body.scopes().size(); i++) {
        try {
          scopes.add(Scope.fromId(body.scopes().get(i)));
        } catch (IllegalArgumentException e) {
          throw ApiException.badRequest(
              "scopes[" + i + "]: " + e.getMessage(), "scopes[" + i + "]");
        }
      }
    }
    return ResponseEntity.status(HttpStatus.CREATED)
        .body(tokens.create(t.id(), body.name(), scopes, body.expiresAt(), null));
  }

  @DeleteMapping("/teams/{team}/tokens/{id}")
  @Requires(Scope.ADMIN)
  @Operation(summary = "Revoke a token; it stops working at once")
  public ResponseEntity<Void> revokeToken(
      Caller caller, @PathVariable String team, @PathVariable UUID id) {
    Teams.Team t = teams.visible(caller, team);
    if (!tokens.revoke(t.id(), id)) throw ApiException.notFound("token", id);
    return ResponseEntity.noContent().build();
  }
}
