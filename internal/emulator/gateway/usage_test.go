package gateway

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"tollgate/api"
	"tollgate/internal/testkit/property"
	"tollgate/plans"
)

// The usage keys of the tests' clients, and their API keys' ids.
const (
	usageMobile  = "usage-key-mobile-0123456789"
	usageReports = "usage-key-reports-0123456789"
)

var testAPIKeys = map[string]APIKey{
	usageMobile:  {ID: "k1mobile00", Client: "mobile", Plan: "free"},
	usageReports: {ID: "k2reports0", Client: "reports", Plan: "partner"},
}

// usageAuthorizer answers as tollgate's authorizer does on a stage with
// plans: the caller's usage key as usageIdentifierKey, by its token
// ("Bearer mobile…" or "Bearer reports…"; any other gets none).
func usageAuthorizer(_ context.Context, event []byte) ([]byte, error) {
	var e struct {
		AuthorizationToken string `json:"authorizationToken"`
	}
	if err := json.Unmarshal(event, &e); err != nil {
		return nil, err
	}
	token := strings.TrimPrefix(e.AuthorizationToken, "Bearer ")
	answer := allowStage("anyone")
	for value, k := range testAPIKeys {
		if strings.HasPrefix(token, k.Client) {
			answer = strings.TrimSuffix(allowStage(k.Client), "}") + `,"usageIdentifierKey":"` + value + `"}`
		}
	}
	if strings.HasPrefix(token, "stranger") {
		answer = strings.TrimSuffix(allowStage("stranger"), "}") + `,"usageIdentifierKey":"usage-key-of-no-plan-000000"}`
	}
	return []byte(answer), nil
}

// token is a bearer token the default validation regex lets through.
func token(client string) string { return "Bearer " + client + strings.Repeat("x", 40-len(client)) }

func planSetup(t *testing.T, set plans.Set) *setup {
	t.Helper()
	s := newSetup(t, func(c *Config) {
		c.Plans = set
		c.Definition.Authorizer.ValidationRegex = ""
	})
	s.auth.set(usageAuthorizer)
	s.g.SetAPIKeys(testAPIKeys)
	return s
}

func testPlans() plans.Set {
	return plans.Set{Default: "free", Plans: map[string]plans.Plan{
		"free":    {RateLimit: 2, BurstLimit: 3, Quota: &plans.Quota{Limit: 5, Period: plans.Day}},
		"partner": {RateLimit: 100, BurstLimit: 100, Routes: map[string]api.Throttle{"GET /customers": {RateLimit: 1, BurstLimit: 1}}, Clients: []string{"reports"}},
	}}
}

// Issue 30: a plan's throttle is a token bucket per API key, its quota a
// count per key and period that resets when the period ends (a DAY at
// 00:00 UTC), and each answers as API Gateway does: 429 with "Too Many
// Requests" (THROTTLED) or "Limit Exceeded" (QUOTA_EXCEEDED)
// (https://repost.aws/knowledge-center/api-gateway-429-limit;
// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
// Refused requests are not counted; the access log names the key by id.
func TestPlanThrottleAndQuota(t *testing.T) {
	s := planSetup(t, testPlans())
	s.clock.Set(time.Date(2026, 12, 6, 23, 59, 0, 0, time.UTC))
	mobile := call{auth: token("mobile")}
	expect := func(what string, c call, status int, message string, typ api.ResponseType, errType string) {
		t.Helper()
		rec := s.do(c)
		if rec.Code != status {
			t.Fatalf("%s: %d %s, want %d", what, rec.Code, rec.Body, status)
		}
		if message != "" && rec.Body.String() != gatewayBody(rec, message, typ) {
			t.Errorf("%s: body %s, want %s", what, rec.Body, gatewayBody(rec, message, typ))
		}
		if got := rec.Header().Get("x-amzn-ErrorType"); got != errType {
			t.Errorf("%s: x-amzn-ErrorType %q, want %q", what, got, errType)
		}
	}
	for i := range 3 {
		expect("the burst, request "+string(rune('1'+i)), mobile, 200, "", "", "")
	}
	expect("past the burst", mobile, 429, "Too Many Requests", api.Throttled, "TooManyRequestsException")
	expect("another client, on its own plan", call{auth: token("reports")}, 200, "", "", "")
	s.clock.Advance(time.Second) // two tokens at 2 a second
	expect("the 4th counted", mobile, 200, "", "", "")
	expect("the 5th counted", mobile, 200, "", "", "")
	s.clock.Advance(10 * time.Second)
	expect("past the quota of 5", mobile, 429, "Limit Exceeded", api.QuotaExceeded, "LimitExceededException")
	s.clock.Set(time.Date(2026, 12, 6, 23, 59, 59, 999e6, time.UTC))
	expect("the day's last millisecond", mobile, 429, "Limit Exceeded", api.QuotaExceeded, "LimitExceededException")
	s.clock.Set(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	expect("00:00 UTC, the quota reset", mobile, 200, "", "", "")

	usage := s.g.Usage("free", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	got := usage["k1mobile00"]
	want := []DayUsage{{Day: "2026-12-06", Used: 5, Remaining: 0}, {Day: "2026-12-07", Used: 1, Remaining: 4}}
	if got.Client != "mobile" || len(got.Days) != 2 || got.Days[0] != want[0] || got.Days[1] != want[1] {
		t.Errorf("usage = %+v, want mobile %+v (throttled and over-quota requests not counted)", got, want)
	}
	if _, other := usage["k2reports0"]; other {
		t.Error("usage of plan free lists a key of plan partner")
	}
	logs := s.logs.String()
	if !strings.Contains(logs, `"apiKeyId":"k1mobile00"`) || strings.Contains(logs, usageMobile) {
		t.Errorf("access log: want the key's id and never its value:\n%s", logs)
	}
	if !strings.Contains(logs, `"errorType":"QUOTA_EXCEEDED"`) || !strings.Contains(logs, `"errorType":"THROTTLED"`) {
		t.Errorf("access log: want THROTTLED and QUOTA_EXCEEDED lines:\n%s", logs)
	}
}

// A route a plan throttles on its own is limited per key by that
// throttle in place of the plan's; other routes are not counted against
// it.
func TestPlanRouteThrottle(t *testing.T) {
	s := planSetup(t, testPlans())
	reports := call{path: "/customers", auth: token("reports")}
	if got := s.do(reports).Code; got != 200 {
		t.Fatalf("first GET /customers = %d", got)
	}
	if got := s.do(reports).Code; got != 429 {
		t.Errorf("second GET /customers at once = %d, want 429 (the route's own 1/s, burst 1)", got)
	}
	for i := range 5 {
		if got := s.do(call{auth: token("reports")}).Code; got != 200 {
			t.Errorf("GET /hello #%d = %d, want 200 (the plan's 100/s)", i+1, got)
		}
	}
	if got := s.do(call{path: "/customers", auth: token("mobile")}).Code; got != 200 {
		t.Errorf("another key on /customers = %d, want 200: throttles are per key", got)
	}
}

// With plans, a guarded method requires an API key: an authorizer that
// returns none, or a key on no plan of the stage, is answered 403
// Forbidden (INVALID_API_KEY), after the authorizer allowed the caller;
// a public route needs none.
func TestPlanRequiresAnAPIKey(t *testing.T) {
	s := planSetup(t, testPlans())
	for _, tc := range []struct{ name, token string }{
		{"no usage key", token("anyone")},
		{"a key on no plan", token("stranger")},
	} {
		rec := s.do(call{auth: tc.token})
		if rec.Code != 403 || rec.Body.String() != gatewayBody(rec, "Forbidden", api.InvalidAPIKey) || rec.Header().Get("x-amzn-ErrorType") != "ForbiddenException" {
			t.Errorf("%s: %d %s, want 403 Forbidden (INVALID_API_KEY)", tc.name, rec.Code, rec.Body)
		}
	}
	if got := s.do(call{path: "/health"}).Code; got != 200 {
		t.Errorf("public GET /health = %d, want 200", got)
	}
	// A key taken off the plans (the keyring changed) is refused from
	// then on.
	s.g.SetAPIKeys(map[string]APIKey{usageReports: testAPIKeys[usageReports]})
	if got := s.do(call{auth: token("mobile")}).Code; got != 403 {
		t.Errorf("a key no longer on a plan = %d, want 403", got)
	}
}

// Invariant over generated schedules (seeded): whatever the times of the
// requests, the requests let through for a key never exceed its quota in
// any period, nor its bucket's burst plus its rate over any span; and a
// request at the start of a new period, with tokens in the bucket, is
// never refused for the quota.
func TestInvariantPlanLimits(t *testing.T) {
	property.Run(t, "plan limits", 200, func(t *testing.T, rng *rand.Rand, counts *property.Counts) {
		rate := float64(1 + rng.IntN(20))
		burst := 1 + rng.IntN(10)
		limit := 1 + rng.IntN(30)
		period := []plans.Period{plans.Day, plans.Week, plans.Month}[rng.IntN(3)]
		set := plans.Set{Default: "free", Plans: map[string]plans.Plan{"free": {RateLimit: rate, BurstLimit: burst, Quota: &plans.Quota{Limit: limit, Period: period}}}}
		s := planSetup(t, set)
		start := time.Date(2026, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, time.UTC)
		s.clock.Set(start)
		var passed []time.Time
		perPeriod := map[time.Time]int{}
		for range 200 {
			// Mostly bursts of requests, sometimes a long gap, sometimes
			// the jump to the next period's start.
			switch r := rng.IntN(100); {
			case r < 70:
				s.clock.Advance(time.Duration(rng.IntN(300)) * time.Millisecond)
			case r < 95:
				s.clock.Advance(time.Duration(rng.IntN(72)) * time.Hour)
			default:
				_, end := period.Window(s.clock.Now())
				s.clock.Set(end)
				counts.Add("period boundary", 1)
			}
			now := s.clock.Now()
			from, _ := period.Window(now)
			fresh := perPeriod[from] == 0
			rec := s.do(call{auth: token("mobile")})
			code := rec.Code
			switch code {
			case 200:
				passed = append(passed, now)
				perPeriod[from]++
			case 429:
				counts.Add("refused", 1)
			default:
				t.Fatalf("status %d", code)
			}
			if perPeriod[from] > limit {
				t.Fatalf("%d requests in the period from %s, past the quota %d", perPeriod[from], from, limit)
			}
			if fresh && strings.Contains(rec.Body.String(), string(api.QuotaExceeded)) {
				t.Fatalf("the first request of the period from %s refused for the quota", from)
			}
		}
		// Over any span [passed[i], passed[j]], at most burst + rate ×
		// span requests (plus the one at its end) pass the bucket.
		for i := range passed {
			for j := i; j < len(passed); j++ {
				span := passed[j].Sub(passed[i]).Seconds()
				if n := j - i + 1; float64(n) > float64(burst)+rate*span+1e-9 {
					t.Fatalf("%d requests passed in %.3fs, past burst %d + %v/s", n, span, burst, rate)
				}
			}
		}
	})
}
