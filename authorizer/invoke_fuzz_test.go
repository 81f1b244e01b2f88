package authorizer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// Whatever the event, an answer that allows must come from a token equal to
// a stored key of the principal it names, and every Allow resource must lie
// inside the request's own API id and stage.
func FuzzInvoke(f *testing.F) {
	for _, name := range []string{"events/token.json", "events/request.json", "events/http-v2.json"} {
		f.Add(fixture(f, name))
	}
	f.Add(tokenEvent("Bearer "+ordersKey, testPrefix+"GET/orders/1"))
	f.Add(tokenEvent("Bearer "+oldMobileKey, "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/v1/GET/"))
	f.Add(tokenEvent("bearer  "+partnerKey, testARN))

	keysOf := map[string][]string{
		"mobile-app": {mobileKey, oldMobileKey},
		"orders-bot": {ordersKey},
		"partner":    {partnerKey},
	}
	a, err := New(Config{Source: testStages(f), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		out, err := a.Invoke(context.Background(), event)
		if err != nil || out == nil {
			return
		}
		var ev map[string]any
		if json.Unmarshal(event, &ev) != nil {
			t.Fatalf("answered %s to an event encoding/json cannot read", out)
		}
		var presented []string // every value that could have been the token
		if s, ok := ev["authorizationToken"].(string); ok {
			presented = append(presented, s)
		}
		for _, field := range []string{"headers", "multiValueHeaders"} {
			h, _ := ev[field].(map[string]any)
			for _, v := range h {
				switch v := v.(type) {
				case string:
					presented = append(presented, v)
				case []any:
					for _, x := range v {
						if s, ok := x.(string); ok {
							presented = append(presented, s)
						}
					}
				}
			}
		}
		tokenOf := func(principal string) {
			for _, k := range keysOf[principal] {
				for _, p := range presented {
					if len(p) > len(k) && strings.EqualFold(p[:len("Bearer")], "Bearer") && strings.TrimLeft(p[len("Bearer"):], " ") == k {
						return
					}
				}
			}
			t.Fatalf("allowed %q for an event without its key: %s", principal, event)
		}

		var simple struct {
			IsAuthorized *bool
			Context      map[string]any
		}
		if json.Unmarshal(out, &simple) == nil && simple.IsAuthorized != nil {
			if *simple.IsAuthorized {
				tokenOf(simple.Context["keyId"].(string))
			}
			return
		}
		ans := decodeAnswer(t, out)
		allow := ans.resources("Allow")
		if len(allow) == 0 {
			t.Fatalf("answer without an Allow statement: %s", out)
		}
		arn, _ := ev["methodArn"].(string)
		parts := strings.SplitN(arn, "/", 3)
		if len(parts) < 3 {
			t.Fatalf("allowed an event whose methodArn %q has no stage", arn)
		}
		stage := parts[0] + "/" + parts[1] + "/"
		for _, r := range allow {
			if !strings.HasPrefix(r, stage) || strings.ContainsAny(stage, "*?") {
				t.Fatalf("Allow %q is outside the request's stage %q", r, stage)
			}
		}
		tokenOf(ans.PrincipalID) // an explicit Deny still names a principal whose key was shown
	})
}
