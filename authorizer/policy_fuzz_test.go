package authorizer

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"tollgate/internal/iam"
)

// For any method ARN, the policy a key gets (whole stage, or its routes)
// stays inside that ARN's own partition, Region, account, API and stage,
// holds no wildcard there, and decides the request itself as the
// authorizer did: an unscoped key's Allow covers the request; a scoped
// key's policy, the same on every route, allows exactly its routes.
func FuzzPolicy(f *testing.F) {
	f.Add(testARN, false)
	f.Add(testPrefix+"GET/orders/1", true)
	f.Add(testPrefix+"POST/orders", true)
	f.Add("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/v1/GET/", false)
	f.Add("arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/a/b/c", true)
	f.Add("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/a*", false)
	a, _ := newTestAuthorizer(f, Config{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, nil)
	f.Fuzz(func(t *testing.T, arn string, scoped bool) {
		key := mobileKey
		if scoped {
			key = ordersKey // routes "GET /orders/*" and "POST /orders"
		}
		out, err := a.Invoke(context.Background(), tokenEvent("Bearer "+key, arn))
		prefix, perr := apiStagePrefix([]byte(arn))
		if perr == nil && strings.IndexByte(arn[prefix:], '/') < 1 {
			perr = errBadARN // a route without VERB/path (testdata/fuzz/FuzzPolicy/801de40e3fd5bd4a)
		}
		if perr != nil {
			if err == nil || !strings.Contains(err.Error(), ErrMalformedEvent.Error()) {
				t.Fatalf("ARN %q is not a method ARN, yet the answer is %s, %v", arn, out, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ARN %q: %v", arn, err)
		}
		stage := arn[:prefix]
		if strings.ContainsAny(stage, "*?") {
			t.Fatalf("stage prefix %q holds a wildcard", stage)
		}
		ans := decodeAnswer(t, out)
		allow, deny := ans.resources("Allow"), ans.resources("Deny")
		for _, r := range append(allow, deny...) {
			if !strings.HasPrefix(r, stage) {
				t.Fatalf("resource %q is outside the request's stage %q", r, stage)
			}
		}
		allowed := false
		for _, r := range allow {
			allowed = allowed || iam.Match(r, arn)
		}
		denied := false
		for _, r := range deny {
			denied = denied || iam.Match(r, arn)
		}
		if !scoped && (!allowed || denied) {
			t.Fatalf("the whole-stage key's policy does not allow its own request %q: %s", arn, out)
		}
		if scoped {
			route := arn[prefix:]
			// "*" matches any run, the empty one too; a dot segment or
			// an encoded . / \ % is refused to every limited key.
			onRoute := route == "POST/orders" || strings.HasPrefix(route, "GET/orders/")
			for _, d := range pathDenies {
				onRoute = onRoute && !iam.Match(d, route)
			}
			if onRoute != (allowed && !denied) {
				t.Fatalf("scoped key on %q (on its routes: %v): allowed %v, denied %v: %s", route, onRoute, allowed, denied, out)
			}
		}
	})
}
