package authorizer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tollgate/internal/iam"
)

// The defects of issue 14, each a test that failed before its fix.

// Defect 1: an empty route list allowed the whole stage. It is refused at
// load, naming the key.
func TestEmptyRouteListIsRefused(t *testing.T) {
	_, err := ParseKeyring([]byte(`{"keys":[{"id":"reports","key":"` + ordersKey + `","routes":[]}]}`))
	if err == nil || !strings.Contains(err.Error(), `key "reports"`) || !strings.Contains(err.Error(), "empty route list") {
		t.Fatalf("ParseKeyring(routes: []) = %v, want an error naming key \"reports\" and the empty route list", err)
	}
}

// Defect 2: ANY became "*" in the policy, and IAM's "*" also matches "/":
// "ANY /customers" allowed GET /admin/customers. A route limit covers
// exactly its routes, on every method it names.
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html:
// "An asterisk (*) represents any combination of zero or more characters".)
func TestAnyCoversEveryMethodOfExactlyItsPath(t *testing.T) {
	src := &stages{values: map[string][]byte{StageCurrent: []byte(
		`{"keys":[{"id":"reports","key":"` + ordersKey + `","routes":["ANY /customers","* /orders/?"]}]}`)}}
	a, _ := newTestAuthorizer(t, Config{}, src)
	tests := []struct {
		arn   string
		allow bool
	}{
		{testPrefix + "GET/customers", true},
		{testPrefix + "DELETE/customers", true},
		{testPrefix + "PATCH/customers", true},
		{testPrefix + "GET/orders/7", true},
		{testPrefix + "GET/admin/customers", false},
		{testPrefix + "DELETE/tenants/42/customers", false},
		{testPrefix + "GET/customers/42", false},
		{testPrefix + "POST/x/orders/7", false},
	}
	for _, tt := range tests {
		out, err := a.Invoke(context.Background(), tokenEvent("Bearer "+ordersKey, tt.arn))
		if err != nil {
			t.Fatalf("%s: %v", tt.arn, err)
		}
		ans := decodeAnswer(t, out)
		// What API Gateway would decide from the policy: an explicit Deny
		// wins, else an Allow whose resource matches.
		allowed := false
		for _, r := range ans.resources("Allow") {
			allowed = allowed || iam.Match(r, tt.arn)
		}
		for _, r := range ans.resources("Deny") {
			if iam.Match(r, tt.arn) {
				allowed = false
			}
		}
		if allowed != tt.allow {
			t.Errorf("%s: the policy allows it = %v, want %v (Allow %q)", tt.arn, allowed, tt.allow, ans.resources("Allow"))
		}
		for _, r := range ans.resources("Allow") {
			if i := strings.Index(r, "/prod/"); strings.HasPrefix(r[i+len("/prod/"):], "*") {
				t.Errorf("Allow %q: a method wildcard spans path segments", r)
			}
		}
	}
}

// Defect 3: the authorizer accepted the AWSPREVIOUS version, which holds
// the keyring before the last change, so a removed client kept its access
// until some later change. Only the current version is read now.
func TestRemovingAClientRevokesItsKey(t *testing.T) {
	src := &stages{values: map[string][]byte{
		StageCurrent:  []byte(`{"keys":[{"id":"mobile-app","key":"` + mobileKey + `"}]}`),
		StagePrevious: []byte(`{"keys":[{"id":"mobile-app","key":"` + mobileKey + `"},{"id":"orders-bot","key":"` + ordersKey + `"}]}`),
	}}
	a, _ := newTestAuthorizer(t, Config{}, src)
	if _, err := a.Invoke(context.Background(), tokenEvent("Bearer "+ordersKey, testARN)); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("the removed client's key: %v, want ErrUnauthorized", err)
	}
	if _, err := a.Invoke(context.Background(), tokenEvent("Bearer "+mobileKey, testARN)); err != nil {
		t.Errorf("the remaining client's key: %v", err)
	}
	if n := src.count(); n != 1 {
		t.Errorf("Secrets Manager calls to load the keys = %d, want 1", n)
	}
}

// Defect 5: a key pasted into the wrong field was quoted in the keyring
// error, which reaches logs and the Lambda error.
func TestKeyInTheWrongFieldIsNeverQuoted(t *testing.T) {
	const k = "tg_test_pasted_key_0123456789ABCDEFGHIJKL"
	for name, secret := range map[string]string{
		"in id":                  `{"keys":[{"id":"` + k + `!","key":"` + ordersKey + `"}]}`,
		"as a valid id":          `{"keys":[{"id":"a","key":"` + ordersKey + `"},{"id":"` + ordersKey + `","key":"` + mobileKey + `"}]}`,
		"in routes":              `{"keys":[{"id":"a","key":"` + ordersKey + `","routes":["` + k + `"]}]}`,
		"in a route's path":      `{"keys":[{"id":"a","key":"` + ordersKey + `","routes":["GET ` + k + `"]}]}`,
		"as a short field name":  `{"keys":[{"id":"a","key":"` + ordersKey + `","tg-usage-key-012345678":1}]}`,
		"as a usage key of ids":  `{"keys":[{"id":"tg-usage-partner-0123456789","key":"` + ordersKey + `","usageKey":"tg-usage-partner-0123456789"}]}`,
		"as a field of the ring": `{"` + k + `":[]}`,
	} {
		_, err := ParseKeyring([]byte(secret))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, s := range []string{k, ordersKey, "tg-usage-key-012345678", "tg-usage-partner-0123456789"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error quotes a key: %v", name, err)
			}
		}
	}
}

// Defect 4: a current version that failed validation kept the last good
// keys (revoked ones among them) for MaxStale, with one WARN line as the
// only sign. An operator's write is a decision, not an outage: the
// authorizer cannot tell which of the old keys the bad write meant to
// revoke, so it fails closed at once, logs an error on every refresh and
// emits the KeyringInvalid metric.
func TestInvalidUpdateFailsClosedLoudly(t *testing.T) {
	for name, bad := range map[string]string{
		"no keys":                     `{"keys":[]}`,
		"a revocation with a bad key": `{"keys":[{"id":"mobile-app","key":"short"}]}`,
		"not JSON":                    `{"keys":[`,
	} {
		t.Run(name, func(t *testing.T) {
			src := &stages{values: map[string][]byte{StageCurrent: fixture(t, "keyrings/current.json")}}
			clock := newFakeClock()
			a, logs := newTestAuthorizerAt(t, clock.Now, Config{}, src)
			if err := a.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			src.set(map[string][]byte{StageCurrent: []byte(bad)}, nil)
			event := tokenEvent("Bearer "+mobileKey, testARN)
			clock.Advance(DefaultTTL)
			for range 2 { // the refresh, then the request after it
				_, err := a.Invoke(context.Background(), event)
				waitIdle(t, a)
				if err == nil {
					continue
				}
				if !errors.Is(err, ErrNoKeys) || !errors.Is(err, ErrMalformedKeyring) {
					t.Fatalf("Invoke() = %v, want ErrNoKeys wrapping ErrMalformedKeyring", err)
				}
			}
			if _, err := a.Invoke(context.Background(), event); !errors.Is(err, ErrMalformedKeyring) {
				t.Fatalf("after the invalid update: %v, want the request refused with ErrMalformedKeyring", err)
			}
			var errLines, metrics int
			for _, l := range logs.lines(t) {
				if l["level"] == "ERROR" && l["msg"] == "keyring invalid: every request fails until it is fixed" {
					errLines++
				}
				if aws, ok := l["_aws"].(map[string]any); ok && aws["CloudWatchMetrics"] != nil && l["KeyringInvalid"] == 1.0 {
					metrics++
				}
			}
			if errLines == 0 || metrics == 0 {
				t.Errorf("error lines %d, metric lines %d, want both; logs:\n%s", errLines, metrics, logs)
			}
			// Fixed, it recovers at the next fetch (after the backoff).
			src.set(map[string][]byte{StageCurrent: fixture(t, "keyrings/current.json")}, nil)
			clock.Advance(maxBackoff)
			_, _ = a.Invoke(context.Background(), event)
			waitIdle(t, a)
			if _, err := a.Invoke(context.Background(), event); err != nil {
				t.Errorf("after the fix: %v", err)
			}
		})
	}
}
