package authorizer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// One line per decision, for every outcome, with outcome, principal,
// reason, request id and duration; and no token, key, usage key or digest
// of any of them in any line.
func TestDecisionLogs(t *testing.T) {
	src := testStages(t)
	a, logs := newTestAuthorizer(t, Config{}, src)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7"})
	cases := []struct {
		event                      []byte
		outcome, principal, reason string
		format                     string
	}{
		{tokenEvent("Bearer "+mobileKey, testARN), outcomeAllow, "mobile-app", "", "TOKEN"},
		{tokenEvent("Bearer "+partnerKey, testARN), outcomeAllow, "partner", "", "TOKEN"},
		{tokenEvent("Bearer "+ordersKey, testARN), outcomeDeny, "orders-bot", reasonRouteNotAllowed, "TOKEN"},
		{tokenEvent("Bearer "+unknownKey, testARN), outcomeUnauthorized, "", reasonUnknownKey, "TOKEN"},
		{tokenEvent("Basic "+mobileKey, testARN), outcomeUnauthorized, "", reasonMalformedToken, "TOKEN"},
		{tokenEvent("", testARN), outcomeUnauthorized, "", reasonNoToken, "TOKEN"},
		{fixture(t, "events/http-v2.json"), outcomeAllow, "mobile-app", "", "HTTP 2.0"},
		{fixture(t, "events/request.json"), outcomeAllow, "mobile-app", "", "REQUEST"},
		{[]byte(`{"type":"TOKEN","authorizationToken":"Bearer ` + mobileKey + `"}`), outcomeError, "", "malformed event", ""},
		{[]byte(`{"type":"TOKEN","authorizationToken":"Bearer ` + mobileKey + `","methodArn":"x"}`), outcomeError, "", "malformed event", "TOKEN"},
	}
	for _, c := range cases {
		_, _ = a.Invoke(ctx, c.event)
	}
	src.set(nil, errOutage)
	a2, logs2 := newTestAuthorizer(t, Config{}, src)
	_, _ = a2.Invoke(ctx, tokenEvent("Bearer "+mobileKey, testARN))

	var decisions []map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] == "decision" {
			decisions = append(decisions, l)
		}
	}
	if len(decisions) != len(cases) {
		t.Fatalf("%d decision lines for %d decisions:\n%s", len(decisions), len(cases), logs)
	}
	for i, c := range cases {
		d := decisions[i]
		if d["outcome"] != c.outcome || d["principal"] != c.principal || d["requestId"] != "req-7" {
			t.Errorf("line %d = %v, want outcome %s principal %q", i, d, c.outcome, c.principal)
		}
		if reason, _ := d["reason"].(string); !strings.HasPrefix(reason, c.reason) || (c.reason == "" && reason != "") {
			t.Errorf("line %d reason = %q, want %q", i, reason, c.reason)
		}
		if f, _ := d["format"].(string); f != c.format {
			t.Errorf("line %d format = %q, want %q", i, f, c.format)
		}
		if dur, ok := d["duration"].(float64); !ok || dur < 0 {
			t.Errorf("line %d duration = %v", i, d["duration"])
		}
		wantLevel := "INFO"
		if c.outcome == outcomeError {
			wantLevel = "ERROR"
		}
		if d["level"] != wantLevel {
			t.Errorf("line %d level = %v, want %s", i, d["level"], wantLevel)
		}
	}
	if out := logs2.String(); !strings.Contains(out, `"reason":"no keys loaded: connection refused"`) {
		t.Errorf("no-keys decision not logged with its cause:\n%s", out)
	}

	all := logs.String() + logs2.String()
	for _, k := range secretKeys {
		d := sha256.Sum256([]byte(k))
		for _, form := range []string{k, hex.EncodeToString(d[:]), base64.StdEncoding.EncodeToString(d[:]), base64.RawURLEncoding.EncodeToString(d[:]), k[len(k)-16:]} {
			if strings.Contains(all, form) {
				t.Errorf("logs hold %.12s… (a key, its tail, or its digest)", form)
			}
		}
	}
}
