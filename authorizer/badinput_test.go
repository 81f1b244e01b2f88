package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"tollgate/internal/iam"
)

// outcome names how API Gateway answers what Invoke returned, per
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html and
// https://repost.aws/knowledge-center/api-gateway-401-error-lambda-authorizer:
// the error "Unauthorized" is 401, any other error 500, a policy with a
// matching Deny 403, an Allow on the request's ARN 200 ("allow"); an HTTP
// API simple response that is not authorized is 403.
func outcome(t *testing.T, out []byte, err error) string {
	t.Helper()
	switch {
	case errors.Is(err, ErrUnauthorized):
		return "401"
	case err != nil:
		return "500"
	}
	var simple struct{ IsAuthorized *bool }
	if json.Unmarshal(out, &simple) == nil && simple.IsAuthorized != nil {
		if *simple.IsAuthorized {
			return "allow"
		}
		return "403"
	}
	ans := decodeAnswer(t, out)
	if len(ans.resources("Deny")) > 0 {
		return "403"
	}
	return "allow"
}

// rawTokenEvent is a TOKEN event whose token is spliced in as raw bytes,
// for what json.Marshal would not write (invalid UTF-8).
func rawTokenEvent(token string) []byte {
	return []byte(`{"type":"TOKEN","authorizationToken":"` + token + `","methodArn":"` + testARN + `"}`)
}

// requestWith is the REQUEST fixture with its Authorization values replaced.
func requestWith(t testing.TB, single string, multi []string) []byte {
	t.Helper()
	return edit(t, fixture(t, "events/request.json"), func(ev map[string]any) {
		ev["headers"].(map[string]any)["Authorization"] = single
		ev["multiValueHeaders"].(map[string]any)["Authorization"] = multi
	})
}

// Every malformed token, header and event is refused as the semantics
// reference says (401 for what the caller sent, 500 for an event API
// Gateway would never send or one that cannot be decided), never allowed,
// never a panic; and no log line holds a key or the token.
func TestBadInput(t *testing.T) {
	long := func(n int) string { return strings.Repeat("A", n) }
	nested := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	cases := []struct {
		name  string
		event []byte
		want  string
	}{
		// Tokens.
		{"token of 0 bytes", tokenEvent("", testARN), "401"},
		{"scheme and a 1-byte token", tokenEvent("Bearer x", testARN), "401"},
		{"token of 1 byte, no scheme", tokenEvent("x", testARN), "401"},
		{"token of 8 KB", tokenEvent("Bearer "+long(8<<10), testARN), "401"},
		{"token of 1 MB", tokenEvent("Bearer "+long(1<<20), testARN), "401"},
		{"valid key and 8 KB more", tokenEvent("Bearer "+mobileKey+long(8<<10), testARN), "401"},
		{"NUL byte after a valid key", tokenEvent("Bearer "+mobileKey+"\x00", testARN), "401"},
		{"NUL byte inside a valid key", tokenEvent("Bearer "+mobileKey[:10]+"\x00"+mobileKey[10:], testARN), "401"},
		{"NUL byte alone", tokenEvent("Bearer \x00", testARN), "401"},
		{"invalid UTF-8 after a valid key", rawTokenEvent("Bearer " + mobileKey + "\xff\xfe"), "401"},
		{"invalid UTF-8 token", rawTokenEvent("Bearer \xc3\x28"), "401"},
		{"escaped non-ASCII token", tokenEvent("Bearer "+mobileKey+"é", testARN), "401"},
		// The scheme.
		{"Bearer with no token", tokenEvent("Bearer", testARN), "401"},
		{"Bearer and a space, no token", tokenEvent("Bearer ", testARN), "401"},
		{"Bearer and two spaces, no token", tokenEvent("Bearer  ", testARN), "401"},
		{"Bearer and a tab, no token", tokenEvent("Bearer\t", testARN), "401"},
		{"bearer in lower case, no token", tokenEvent("bearer", testARN), "401"},
		{"a tab between Bearer and a valid key", tokenEvent("Bearer\t"+mobileKey, testARN), "401"},
		{"a valid key and a tab after it", tokenEvent("Bearer "+mobileKey+"\t", testARN), "401"},
		{"a valid key and a space after it", tokenEvent("Bearer "+mobileKey+" ", testARN), "401"},
		{"a space before Bearer", tokenEvent(" Bearer "+mobileKey, testARN), "401"},
		{"a valid key without the scheme", tokenEvent(mobileKey, testARN), "401"},
		{"another scheme", tokenEvent("Basic "+mobileKey, testARN), "401"},
		{"Bearer twice", tokenEvent("Bearer Bearer "+mobileKey, testARN), "401"},
		{"two keys joined by a comma", tokenEvent("Bearer "+mobileKey+","+ordersKey, testARN), "401"},
		{"two credentials joined by a comma", tokenEvent("Bearer "+unknownKey+", Bearer "+mobileKey, testARN), "401"},
		// Several Authorization headers.
		{"two Authorization values", requestWith(t, "Bearer "+mobileKey, []string{"Bearer " + mobileKey, "Bearer " + unknownKey}), "401"},
		{"the same valid key twice", requestWith(t, "Bearer "+mobileKey, []string{"Bearer " + mobileKey, "Bearer " + mobileKey}), "401"},
		{"headers and multiValueHeaders disagree", requestWith(t, "Bearer "+mobileKey, []string{"Bearer " + unknownKey}), "401"},
		{"Authorization and authorization", edit(t, requestWith(t, "Bearer "+mobileKey, []string{"Bearer " + mobileKey}), func(ev map[string]any) {
			ev["headers"].(map[string]any)["authorization"] = "Bearer " + unknownKey
			ev["multiValueHeaders"].(map[string]any)["authorization"] = []string{"Bearer " + unknownKey}
		}), "401"},
		{"no Authorization header", edit(t, fixture(t, "events/request.json"), func(ev map[string]any) {
			delete(ev["headers"].(map[string]any), "Authorization")
			delete(ev["multiValueHeaders"].(map[string]any), "Authorization")
		}), "401"},
		// Events.
		{"empty event", []byte{}, "500"},
		{"truncated event", tokenEvent("Bearer "+mobileKey, testARN)[:60], "500"},
		{"truncated before the last brace", func() []byte { e := tokenEvent("Bearer "+mobileKey, testARN); return e[:len(e)-1] }(), "500"},
		{"deeply nested event", []byte(`{"type":"TOKEN","authorizationToken":"Bearer ` + mobileKey + `","methodArn":"` + testARN + `","x":` + nested + `}`), "500"},
		{"an array, not an object", []byte(`[` + string(tokenEvent("Bearer "+mobileKey, testARN)) + `]`), "500"},
		{"token of the wrong type", []byte(`{"type":"TOKEN","authorizationToken":12345,"methodArn":"` + testARN + `"}`), "500"},
		{"methodArn of the wrong type", []byte(`{"type":"TOKEN","authorizationToken":"Bearer ` + mobileKey + `","methodArn":["` + testARN + `"]}`), "500"},
		{"headers of the wrong type", edit(t, fixture(t, "events/request.json"), func(ev map[string]any) { ev["headers"] = []string{"Bearer " + mobileKey} }), "500"},
		{"type of the wrong type", []byte(`{"type":true,"authorizationToken":"Bearer ` + mobileKey + `","methodArn":"` + testARN + `"}`), "500"},
		{"unknown type", []byte(`{"type":"COOKIE","authorizationToken":"Bearer ` + mobileKey + `","methodArn":"` + testARN + `"}`), "500"},
		{"no type", []byte(`{"authorizationToken":"Bearer ` + mobileKey + `","methodArn":"` + testARN + `"}`), "500"},
		{"missing methodArn", []byte(`{"type":"TOKEN","authorizationToken":"Bearer ` + mobileKey + `"}`), "500"},
		{"empty methodArn", tokenEvent("Bearer "+mobileKey, ""), "500"},
		{"methodArn twice", []byte(`{"type":"TOKEN","authorizationToken":"Bearer ` + mobileKey + `","methodArn":"` + testARN + `","methodArn":"arn:aws:execute-api:us-east-1:123456789012:other/prod/GET/"}`), "500"},
		{"methodArn of 1,601 bytes", tokenEvent("Bearer "+mobileKey, testARN+"/"+long(iam.MaxMethodARN-len(testARN))), "500"},
		{"methodArn of 64 KB", tokenEvent("Bearer "+mobileKey, testARN+"/"+long(64<<10)), "500"},
		{"methodArn with a wildcard", tokenEvent("Bearer "+mobileKey, "arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/hello"), "500"},
		{"methodArn of another service", tokenEvent("Bearer "+mobileKey, "arn:aws:lambda:us-east-1:123456789012:a1b2c3d4e5/prod/GET/hello"), "500"},
		{"methodArn without a stage", tokenEvent("Bearer "+mobileKey, "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"), "500"},
		{"an unknown key with a malformed methodArn", tokenEvent("Bearer "+unknownKey, "not an arn"), "500"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, logs := newTestAuthorizer(t, Config{}, nil)
			out, err := a.Invoke(context.Background(), c.event)
			if got := outcome(t, out, err); got != c.want {
				t.Errorf("Invoke(%.80q) = %s (%.200s, %v), want %s", c.event, got, out, err, c.want)
			}
			assertNoKeysLogged(t, logs.String())
		})
	}
}

// A methodArn of another partition is a request API Gateway does send
// (China and GovCloud Regions): it is decided like any other, and the Allow
// stays inside that partition's API and stage.
func TestOtherPartitions(t *testing.T) {
	for _, arn := range []string{
		"arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/prod/GET/hello",
		"arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:a1b2c3d4e5/prod/GET/hello",
	} {
		a, _ := newTestAuthorizer(t, Config{}, nil)
		if out, err := a.Invoke(context.Background(), tokenEvent("Bearer "+unknownKey, arn)); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("unknown key on %s: %s, %v; want Unauthorized", arn, out, err)
		}
		out, err := a.Invoke(context.Background(), tokenEvent("Bearer "+mobileKey, arn))
		if err != nil {
			t.Fatalf("valid key on %s: %v", arn, err)
		}
		stage := arn[:strings.Index(arn, "/prod/")+len("/prod/")]
		for _, r := range decodeAnswer(t, out).resources("Allow") {
			if r != stage+"*/*" {
				t.Errorf("valid key on %s: Allow %q, want %q", arn, r, stage+"*/*")
			}
		}
	}
}

// Forms RFC 6750 section 2.1 accepts ("Bearer" 1*SP b64token, the scheme
// matched ignoring case as RFC 9110 section 11.1 says) are the caller's
// valid key, and so allowed by the authorizer itself. A TOKEN authorizer
// behind API Gateway never sees them: the deployed validation regex
// (api.BearerRegex) wants exactly "Bearer " and refuses them with 401,
// which internal/emulator/gateway's tests show.
func TestLenientSchemeForms(t *testing.T) {
	for _, v := range []string{"bearer " + mobileKey, "BEARER " + mobileKey, "Bearer  " + mobileKey} {
		a, _ := newTestAuthorizer(t, Config{}, nil)
		out, err := a.Invoke(context.Background(), requestWith(t, v, []string{v}))
		if got := outcome(t, out, err); got != "allow" {
			t.Errorf("%q: %s (%v), want allow", v, got, err)
		}
	}
}

// A secret that is not a usable keyring stops every request with a 500
// and an error that names the problem but no key.
func TestBadSecret(t *testing.T) {
	for _, c := range []struct {
		name, secret, want string
	}{
		{"empty", ``, "empty"},
		{"not JSON", `keys: [tg_test_mobile_app_key_0123456789abcdefghij]`, "keyring"},
		{"JSON but not a keyring", `{"key":"` + mobileKey + `"}`, "keyring"},
		{"no keys", `{"keys":[]}`, "no keys"},
		{"a short key", `{"keys":[{"id":"short","key":"tg_short_0123"}]}`, "short"},
		{"a duplicate key", `{"keys":[{"id":"a","key":"` + mobileKey + `"},{"id":"b","key":"` + mobileKey + `"}]}`, "same key"},
		{"a duplicate id", `{"keys":[{"id":"a","key":"` + mobileKey + `"},{"id":"a","key":"` + ordersKey + `"}]}`, "duplicate"},
		{"a key with a space", `{"keys":[{"id":"a","key":"tg_test_mobile app_key_0123456789abcdefghij"}]}`, "a"},
		{"truncated", `{"keys":[{"id":"a","key":"` + mobileKey, "keyring"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := &stages{values: map[string][]byte{StageCurrent: []byte(c.secret)}}
			a, logs := newTestAuthorizer(t, Config{}, src)
			loadErr := a.Load(context.Background())
			if !errors.Is(loadErr, ErrNoKeys) || !strings.Contains(strings.ToLower(loadErr.Error()), c.want) {
				t.Errorf("Load() = %v, want ErrNoKeys naming %q", loadErr, c.want)
			}
			for _, v := range []string{mobileKey, ordersKey} {
				out, err := a.Invoke(context.Background(), tokenEvent("Bearer "+v, testARN))
				if got := outcome(t, out, err); got != "500" {
					t.Errorf("Invoke with %s = %s (%v), want 500", v[:12], got, err)
				}
				if err != nil && strings.Contains(err.Error(), v) {
					t.Errorf("the error quotes a key: %v", err)
				}
			}
			assertNoKeysLogged(t, logs.String())
		})
	}
}
