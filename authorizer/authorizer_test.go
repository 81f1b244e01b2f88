package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"tollgate/internal/iam"
)

// The outcomes table of the package doc, one row at a time. API Gateway's
// treatment of each answer (401 for exactly "Unauthorized", 403 for a
// matching Deny or no matching Allow, 500 for any other error) is from
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html,
// https://repost.aws/knowledge-center/api-gateway-401-error-lambda-authorizer and
// https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer.
func TestOutcomes(t *testing.T) {
	request := fixture(t, "events/request.json")
	httpV2 := fixture(t, "events/http-v2.json")
	setHeader := func(data []byte, name, value string) []byte {
		return edit(t, data, func(ev map[string]any) {
			h := ev["headers"].(map[string]any)
			delete(h, "Authorization")
			delete(h, "authorization")
			h[name] = value
			if mv, ok := ev["multiValueHeaders"].(map[string]any); ok {
				delete(mv, "Authorization")
				mv[name] = []string{value}
			}
		})
	}
	const allStage = testPrefix + "*/*"
	ordersRoutes := []string{testPrefix + "GET/orders/*", testPrefix + "POST/orders"}

	tests := []struct {
		name  string
		event []byte
		// Exactly one of these is set.
		wantErr    error    // the error Invoke returns
		wantAllow  []string // REST: Allow resources, and no Deny
		wantDeny   []string // REST: Deny resources (an explicit deny)
		wantSimple string   // HTTP API: the exact answer
		principal  string
		stage      string // keyVersion in the context
	}{
		// 401: no token, or a token that is not a well-formed credential.
		{name: "TOKEN empty token", event: tokenEvent("", testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN no token field", event: []byte(`{"type":"TOKEN","methodArn":"` + testARN + `"}`), wantErr: ErrUnauthorized},
		{name: "TOKEN null token", event: []byte(`{"type":"TOKEN","authorizationToken":null,"methodArn":"` + testARN + `"}`), wantErr: ErrUnauthorized},
		{name: "TOKEN scheme only", event: tokenEvent("Bearer", testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN scheme and space only", event: tokenEvent("Bearer ", testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN no scheme", event: tokenEvent(mobileKey, testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN other scheme", event: tokenEvent("Basic "+mobileKey, testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN tab after scheme", event: tokenEvent("Bearer\t"+mobileKey, testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN trailing space", event: tokenEvent("Bearer "+mobileKey+" ", testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN comma-joined values", event: tokenEvent("Bearer "+unknownKey+", Bearer "+mobileKey, testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN key then junk", event: tokenEvent("Bearer "+mobileKey+",x", testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN NUL in token", event: tokenEvent("Bearer "+mobileKey+"\x00", testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN key prefix", event: tokenEvent("Bearer "+mobileKey[:40], testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN key with extra byte", event: tokenEvent("Bearer "+mobileKey+"k", testARN), wantErr: ErrUnauthorized},
		{name: "TOKEN token past MaxKeyLength", event: tokenEvent("Bearer "+strings.Repeat("a", MaxKeyLength+1), testARN), wantErr: ErrUnauthorized},
		// 401: well-formed but unknown.
		{name: "TOKEN unknown key", event: tokenEvent("Bearer "+unknownKey, testARN), wantErr: ErrUnauthorized},
		// Allow on the whole stage.
		{name: "TOKEN valid key", event: tokenEvent("Bearer "+mobileKey, testARN), wantAllow: []string{allStage}, principal: "mobile-app", stage: versionCurrent},
		{name: "TOKEN lower-case scheme", event: tokenEvent("bearer "+mobileKey, testARN), wantAllow: []string{allStage}, principal: "mobile-app", stage: versionCurrent},
		{name: "TOKEN upper-case scheme, two spaces", event: tokenEvent("BEARER  "+mobileKey, testARN), wantAllow: []string{allStage}, principal: "mobile-app", stage: versionCurrent},
		{name: "TOKEN rotated key within its grace", event: tokenEvent("Bearer "+oldMobileKey, testARN), wantAllow: []string{allStage}, principal: "mobile-app", stage: versionPrevious},
		{name: "TOKEN root resource", event: tokenEvent("Bearer "+mobileKey, testPrefix+"GET/"), wantAllow: []string{allStage}, principal: "mobile-app", stage: versionCurrent},
		{name: "TOKEN aws-cn partition kept", event: tokenEvent("Bearer "+mobileKey, "arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/prod/GET/hello"),
			wantAllow: []string{"arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/prod/*/*"}, principal: "mobile-app", stage: versionCurrent},
		{name: "TOKEN aws-us-gov partition kept", event: tokenEvent("Bearer "+mobileKey, "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:a1b2c3d4e5/v1/POST/orders"),
			wantAllow: []string{"arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:a1b2c3d4e5/v1/*/*"}, principal: "mobile-app", stage: versionCurrent},
		// Route-scoped keys: Allow exactly their routes; an explicit Deny
		// outside them (403).
		{name: "TOKEN scoped key on its route", event: tokenEvent("Bearer "+ordersKey, testPrefix+"GET/orders/42"), wantAllow: ordersRoutes, principal: "orders-bot", stage: versionCurrent},
		{name: "TOKEN scoped key on its exact route", event: tokenEvent("Bearer "+ordersKey, testPrefix+"POST/orders"), wantAllow: ordersRoutes, principal: "orders-bot", stage: versionCurrent},
		{name: "TOKEN scoped key outside its routes", event: tokenEvent("Bearer "+ordersKey, testARN), wantDeny: []string{testARN}, principal: "orders-bot", stage: versionCurrent},
		{name: "TOKEN scoped key, other method", event: tokenEvent("Bearer "+ordersKey, testPrefix+"DELETE/orders/42"), wantDeny: []string{testPrefix + "DELETE/orders/42"}, principal: "orders-bot", stage: versionCurrent},
		{name: "TOKEN usage key", event: tokenEvent("Bearer "+partnerKey, testARN), wantAllow: []string{allStage}, principal: "partner", stage: versionCurrent},
		// 500: the event cannot be decided.
		{name: "not JSON", event: []byte(`Bearer x`), wantErr: ErrMalformedEvent},
		{name: "empty payload", event: []byte(``), wantErr: ErrMalformedEvent},
		{name: "truncated JSON", event: tokenEvent("Bearer "+mobileKey, testARN)[:40], wantErr: ErrMalformedEvent},
		{name: "JSON array", event: []byte(`[]`), wantErr: ErrMalformedEvent},
		{name: "unknown type", event: []byte(`{"type":"COOKIE","authorizationToken":"Bearer ` + mobileKey + `","methodArn":"` + testARN + `"}`), wantErr: ErrMalformedEvent},
		{name: "no type", event: []byte(`{"authorizationToken":"Bearer ` + mobileKey + `","methodArn":"` + testARN + `"}`), wantErr: ErrMalformedEvent},
		{name: "unknown version", event: []byte(`{"version":"3.0","type":"REQUEST","routeArn":"` + testARN + `"}`), wantErr: ErrMalformedEvent},
		{name: "TOKEN without methodArn", event: []byte(`{"type":"TOKEN","authorizationToken":"Bearer ` + mobileKey + `"}`), wantErr: ErrMalformedEvent},
		{name: "TOKEN methodArn of wrong type", event: []byte(`{"type":"TOKEN","authorizationToken":"Bearer ` + mobileKey + `","methodArn":42}`), wantErr: ErrMalformedEvent},
		{name: "TOKEN token of wrong type", event: []byte(`{"type":"TOKEN","authorizationToken":["Bearer ` + mobileKey + `"],"methodArn":"` + testARN + `"}`), wantErr: ErrMalformedEvent},
		{name: "TOKEN duplicate token field", event: []byte(`{"type":"TOKEN","authorizationToken":"Bearer x","authorizationToken":"Bearer ` + mobileKey + `","methodArn":"` + testARN + `"}`), wantErr: ErrMalformedEvent},
		{name: "TOKEN methodArn not execute-api", event: tokenEvent("Bearer "+mobileKey, "arn:aws:lambda:us-east-1:123456789012:function:x"), wantErr: ErrMalformedEvent},
		{name: "TOKEN methodArn with wildcard stage", event: tokenEvent("Bearer "+mobileKey, "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/GET/hello"), wantErr: ErrMalformedEvent},
		{name: "TOKEN methodArn with wildcard api", event: tokenEvent("Bearer "+mobileKey, "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/hello"), wantErr: ErrMalformedEvent},
		{name: "TOKEN methodArn without route", event: tokenEvent("Bearer "+mobileKey, testPrefix), wantErr: ErrMalformedEvent},
		{name: "TOKEN methodArn past 1600 bytes", event: tokenEvent("Bearer "+mobileKey, testPrefix+"GET/"+strings.Repeat("a", iam.MaxMethodARN)), wantErr: ErrMalformedEvent},
		{name: "REQUEST without methodArn", event: edit(t, request, func(ev map[string]any) { delete(ev, "methodArn") }), wantErr: ErrMalformedEvent},
		{name: "REQUEST headers of wrong type", event: edit(t, request, func(ev map[string]any) { ev["headers"] = "x" }), wantErr: ErrMalformedEvent},
		{name: "HTTP without routeArn", event: edit(t, httpV2, func(ev map[string]any) { delete(ev, "routeArn") }), wantErr: ErrMalformedEvent},

		// REQUEST events: the header is found whatever its casing; several
		// values are never a way around the check.
		{name: "REQUEST valid key", event: request, wantAllow: []string{allStage}, principal: "mobile-app", stage: versionCurrent},
		{name: "REQUEST lower-case header name", event: setHeader(request, "authorization", "Bearer "+mobileKey), wantAllow: []string{allStage}, principal: "mobile-app", stage: versionCurrent},
		{name: "REQUEST unknown key", event: setHeader(request, "Authorization", "Bearer "+unknownKey), wantErr: ErrUnauthorized},
		{name: "REQUEST no header", event: edit(t, request, func(ev map[string]any) {
			delete(ev["headers"].(map[string]any), "Authorization")
			delete(ev["multiValueHeaders"].(map[string]any), "Authorization")
		}), wantErr: ErrUnauthorized},
		{name: "REQUEST null headers", event: edit(t, request, func(ev map[string]any) { ev["headers"], ev["multiValueHeaders"] = nil, nil }), wantErr: ErrUnauthorized},
		{name: "REQUEST only multiValueHeaders", event: edit(t, request, func(ev map[string]any) { delete(ev["headers"].(map[string]any), "Authorization") }),
			wantAllow: []string{allStage}, principal: "mobile-app", stage: versionCurrent},
		{name: "REQUEST two values in multiValueHeaders", event: edit(t, request, func(ev map[string]any) {
			ev["multiValueHeaders"].(map[string]any)["Authorization"] = []string{"Bearer " + unknownKey, "Bearer " + mobileKey}
		}), wantErr: ErrUnauthorized},
		{name: "REQUEST the header twice in two casings", event: edit(t, request, func(ev map[string]any) {
			ev["headers"].(map[string]any)["authorization"] = "Bearer " + unknownKey
		}), wantErr: ErrUnauthorized},
		{name: "REQUEST headers and multiValueHeaders disagree", event: edit(t, request, func(ev map[string]any) {
			ev["multiValueHeaders"].(map[string]any)["Authorization"] = []string{"Bearer " + ordersKey}
		}), wantErr: ErrUnauthorized},
		{name: "REQUEST scoped key outside its routes", event: setHeader(request, "Authorization", "Bearer "+ordersKey),
			wantDeny: []string{testPrefix + "GET/customers"}, principal: "orders-bot", stage: versionCurrent},

		// HTTP API payload 2.0: simple responses.
		{name: "HTTP valid key", event: httpV2, wantSimple: `{"isAuthorized":true,"context":{"keyId":"mobile-app","keyVersion":"current"}}`},
		{name: "HTTP rotated key", event: setHeader(httpV2, "authorization", "Bearer "+oldMobileKey), wantSimple: `{"isAuthorized":true,"context":{"keyId":"mobile-app","keyVersion":"previous"}}`},
		{name: "HTTP unknown key", event: setHeader(httpV2, "authorization", "Bearer "+unknownKey), wantSimple: `{"isAuthorized":false}`},
		{name: "HTTP no header", event: edit(t, httpV2, func(ev map[string]any) { delete(ev["headers"].(map[string]any), "authorization") }), wantSimple: `{"isAuthorized":false}`},
		{name: "HTTP comma-joined duplicate headers", event: setHeader(httpV2, "authorization", "Bearer "+unknownKey+",Bearer "+mobileKey), wantSimple: `{"isAuthorized":false}`},
		{name: "HTTP scoped key outside its routes", event: setHeader(httpV2, "authorization", "Bearer "+ordersKey),
			wantSimple: `{"isAuthorized":false,"context":{"keyId":"orders-bot","keyVersion":"current"}}`},
		{name: "HTTP scoped key on its route", event: edit(t, setHeader(httpV2, "authorization", "Bearer "+ordersKey), func(ev map[string]any) { ev["routeArn"], ev["routeKey"] = testPrefix+"POST/orders", "POST /orders" }),
			wantSimple: `{"isAuthorized":true,"context":{"keyId":"orders-bot","keyVersion":"current"}}`},
	}
	a, logs := newTestAuthorizer(t, Config{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Invoke(context.Background(), tt.event)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Invoke() error = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Invoke() answered %s beside its error", got)
				}
				if tt.wantErr == ErrUnauthorized && err.Error() != "Unauthorized" {
					t.Errorf("Invoke() error message = %q, want exactly Unauthorized", err)
				}
				if tt.wantErr != ErrUnauthorized && err.Error() == "Unauthorized" {
					t.Errorf("Invoke() error message = %q would be a 401, want a 500", err)
				}
			case tt.wantSimple != "":
				if err != nil || string(got) != tt.wantSimple {
					t.Fatalf("Invoke() = %s, %v; want %s", got, err, tt.wantSimple)
				}
			default:
				if err != nil {
					t.Fatalf("Invoke() error = %v", err)
				}
				ans := decodeAnswer(t, got)
				if ans.PrincipalID != tt.principal {
					t.Errorf("principalId = %q, want %q", ans.PrincipalID, tt.principal)
				}
				if ans.PolicyDocument.Version != "2012-10-17" {
					t.Errorf("policy Version = %q", ans.PolicyDocument.Version)
				}
				for _, s := range ans.PolicyDocument.Statement {
					if len(s.Action) != 1 || s.Action[0] != "execute-api:Invoke" {
						t.Errorf("statement Action = %q", s.Action)
					}
				}
				wantAllow := tt.wantAllow
				if tt.wantDeny != nil && tt.principal == "orders-bot" {
					wantAllow = ordersRoutes // a scoped key's answer keeps its Allow
				}
				if got := ans.resources("Allow"); !slices.Equal(got, wantAllow) {
					t.Errorf("Allow resources = %q, want %q", got, wantAllow)
				}
				var wantDeny []string
				if tt.principal == "orders-bot" {
					wantDeny = limitDenies(testPrefix) // a limited key's, the same on every route
				}
				if got := ans.resources("Deny"); !slices.Equal(got, wantDeny) {
					t.Errorf("Deny resources = %q, want %q", got, wantDeny)
				}
				// wantDeny names the request's method ARN: off the key's
				// routes, its answer does not allow it.
				for _, arn := range tt.wantDeny {
					if ans.allows(arn) {
						t.Errorf("the answer allows %s, off the key's routes", arn)
					}
				}
				wantCtx := map[string]any{"keyId": tt.principal, "keyVersion": tt.stage}
				if !mapsEqual(ans.Context, wantCtx) {
					t.Errorf("context = %v, want %v", ans.Context, wantCtx)
				}
				wantUsage := ""
				if tt.principal == "partner" {
					wantUsage = partnerUsage
				}
				if ans.UsageIdentifierKey != wantUsage {
					t.Errorf("usageIdentifierKey = %q, want %q", ans.UsageIdentifierKey, wantUsage)
				}
			}
		})
	}
	for _, k := range secretKeys {
		if strings.Contains(logs.String(), k) {
			t.Errorf("logs hold key %q", k[:12])
		}
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A cached answer must be right for every route of the stage: API Gateway
// caches the policy by token and evaluates each later request's method ARN
// against it (the pitfall in the knowledge-center article
// "api-gateway-lambda-authorization-errors"). The answer for one route must
// therefore be byte-for-byte the answer for any other route of the stage.
func TestAnswerIsTheSameForEveryRouteOfAStage(t *testing.T) {
	a, _ := newTestAuthorizer(t, Config{}, nil)
	for _, key := range []string{mobileKey, partnerKey} {
		first, err := a.Invoke(context.Background(), tokenEvent("Bearer "+key, testPrefix+"GET/hello"))
		if err != nil {
			t.Fatal(err)
		}
		for _, route := range []string{"POST/orders", "GET/customers/7", "DELETE/", "PATCH/a/b/c"} {
			got, err := a.Invoke(context.Background(), tokenEvent("Bearer "+key, testPrefix+route))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(first) {
				t.Errorf("answer for %s = %s, want the answer for GET/hello %s", route, got, first)
			}
		}
	}
	// A scoped key's Allow is the same list whichever of its routes came
	// first, so a cached answer serves all of them.
	allowFor := func(arn string) []string {
		b, err := a.Invoke(context.Background(), tokenEvent("Bearer "+ordersKey, arn))
		if err != nil {
			t.Fatal(err)
		}
		return decodeAnswer(t, b).resources("Allow")
	}
	if x, y := allowFor(testPrefix+"GET/orders/1"), allowFor(testPrefix+"POST/orders"); !slices.Equal(x, y) {
		t.Errorf("scoped Allow differs by route: %q vs %q", x, y)
	}
}

// wantStageAllow checks that mobileKey on arn (ending in "GET/x") is
// allowed on exactly arn's stage.
func wantStageAllow(t *testing.T, a *Authorizer, arn string) {
	t.Helper()
	got, err := a.Invoke(context.Background(), tokenEvent("Bearer "+mobileKey, arn))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(arn, "GET/x") + "*/*"
	if r := decodeAnswer(t, got).resources("Allow"); !slices.Equal(r, []string{want}) {
		t.Fatalf("Allow for %s = %q, want %q", arn, r, want)
	}
}

// Answers to different stages and APIs are never mixed up by the answer
// cache.
func TestAnswerFollowsTheRequestStage(t *testing.T) {
	a, _ := newTestAuthorizer(t, Config{}, nil)
	for range 2 {
		for _, arn := range []string{
			"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/x",
			"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/GET/x",
			"arn:aws:execute-api:eu-west-1:123456789012:zzzzzzzzzz/prod/GET/x",
		} {
			wantStageAllow(t, a, arn)
		}
	}
}

// Past the answer cache's bound, answers are still right, just not kept.
func TestAnswerCacheBound(t *testing.T) {
	a, _ := newTestAuthorizer(t, Config{}, nil)
	for i := range 2 * maxCachedPrefixes {
		arn := fmt.Sprintf("arn:aws:execute-api:us-east-1:123456789012:api%03d/prod/GET/x", i)
		wantStageAllow(t, a, arn)
	}
	e, _ := a.store.state.Load().value.match([]byte(mobileKey))
	if n := len(*e.answers.m.Load()); n != maxCachedPrefixes {
		t.Errorf("answer cache holds %d prefixes, want the bound %d", n, maxCachedPrefixes)
	}
}

func TestRawHeaderScheme(t *testing.T) {
	a, _ := newTestAuthorizer(t, Config{TokenHeader: "x-api-key", Scheme: SchemeNone}, nil)
	request := fixture(t, "events/request.json")
	withKey := func(v string) []byte {
		return edit(t, request, func(ev map[string]any) {
			h := ev["headers"].(map[string]any)
			delete(h, "Authorization")
			h["X-Api-Key"] = v
			delete(ev["multiValueHeaders"].(map[string]any), "Authorization")
		})
	}
	tests := []struct {
		value   string
		wantErr error
	}{
		{mobileKey, nil},
		{"Bearer " + mobileKey, ErrUnauthorized},
		{unknownKey, ErrUnauthorized},
		{mobileKey + "," + mobileKey, ErrUnauthorized},
		{"", ErrUnauthorized},
	}
	for _, tt := range tests {
		_, err := a.Invoke(context.Background(), withKey(tt.value))
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("x-api-key %.20q: error = %v, want %v", tt.value, err, tt.wantErr)
		}
	}
	// TOKEN events carry the raw value too.
	if _, err := a.Invoke(context.Background(), tokenEvent(mobileKey, testARN)); err != nil {
		t.Errorf("TOKEN raw key: %v", err)
	}
}

// The context holds only scalars, as API Gateway requires (a nested value
// makes it answer 500).
func TestContextValuesAreScalars(t *testing.T) {
	a, _ := newTestAuthorizer(t, Config{}, nil)
	for _, key := range []string{mobileKey, ordersKey, partnerKey, oldMobileKey} {
		b, err := a.Invoke(context.Background(), tokenEvent("Bearer "+key, testPrefix+"GET/orders/1"))
		if err != nil {
			t.Fatal(err)
		}
		var raw struct{ Context map[string]json.RawMessage }
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		for k, v := range raw.Context {
			if c := v[0]; c == '{' || c == '[' || c == 'n' {
				t.Errorf("context[%q] = %s is not a string, number or boolean", k, v)
			}
		}
	}
}
