package authorizer

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The fixtures are shaped like the examples of
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
// and https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html;
// each decodes to its format, ARN and token.
func TestParseEventFixtures(t *testing.T) {
	tests := []struct {
		file   string
		format EventFormat
		arn    string
	}{
		{"events/token.json", FormatToken, testARN},
		{"events/request.json", FormatRequest, testPrefix + "GET/customers"},
		{"events/http-v2.json", FormatHTTP, testARN},
	}
	for _, tt := range tests {
		ev, err := parseEvent(fixture(t, tt.file), DefaultTokenHeader)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if ev.format != tt.format || string(ev.arn) != tt.arn || ev.identity != identityPresent || string(ev.value) != "Bearer "+mobileKey {
			t.Errorf("%s: format %v, arn %s, identity %v, value %q", tt.file, ev.format, ev.arn, ev.identity, ev.value)
		}
	}
	// HTTP API payload format 1.0 has the REST REQUEST shape.
	v1 := edit(t, fixture(t, "events/request.json"), func(ev map[string]any) { ev["version"] = "1.0" })
	if ev, err := parseEvent(v1, DefaultTokenHeader); err != nil || ev.format != FormatRequest {
		t.Errorf("payload 1.0: %v, %v", ev.format, err)
	}
	// Escaped field names and values decode like encoding/json.
	esc := `{"typ\u0065":"TOKEN","authorizationToken":"Bearer\u0020abc","methodArn":"` + testARN + `"}`
	if ev, err := parseEvent([]byte(esc), DefaultTokenHeader); err != nil || string(ev.value) != "Bearer abc" {
		t.Errorf("escaped event: %q, %v", ev.value, err)
	}
}

// An event the scanner reads must say what encoding/json says it says.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"type":"TOKEN","authorizationToken":"Bearer x","methodArn":"` + testARN + `"}`))
	f.Add([]byte(`{"type":"REQUEST","methodArn":"a","headers":{"authorization":"v","X":"y"},"multiValueHeaders":{"Authorization":["v"]}}`))
	f.Add([]byte(`{"version":"2.0","type":"REQUEST","routeArn":"a","headers":{"authorization":"v"}}`))
	f.Add([]byte(`{"type":"REQUEST","methodArn":"a","headers":null,"multiValueHeaders":{"AUTHORIZATION":["v","w"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := parseEvent(data, DefaultTokenHeader)
		if err != nil {
			if !errors.Is(err, ErrMalformedEvent) {
				t.Fatalf("error %v does not wrap ErrMalformedEvent", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("accepted %q that is not an object: %v", data, err)
		}
		arnField := "methodArn"
		if ev.format == FormatHTTP {
			arnField = "routeArn"
		}
		// encoding/json turns each invalid UTF-8 byte into U+FFFD; the
		// scanner keeps the bytes, which the ASCII-only ARN and token
		// grammars then refuse. Compare as encoding/json would decode.
		if m[arnField] != asJSONDecodes(ev.arn) {
			t.Fatalf("arn = %q, encoding/json: %q", ev.arn, m[arnField])
		}
		if ev.identity != identityPresent {
			return
		}
		// The one value read is the only value of the header.
		var values []string
		switch ev.format {
		case FormatToken:
			values = append(values, m["authorizationToken"].(string))
		default:
			if h, ok := m["headers"].(map[string]any); ok {
				for k, v := range h {
					if s, ok := v.(string); ok && strings.EqualFold(k, DefaultTokenHeader) {
						values = append(values, s)
					}
				}
			}
			if mv, ok := m["multiValueHeaders"].(map[string]any); ok && ev.format == FormatRequest {
				for k, v := range mv {
					if list, ok := v.([]any); ok && strings.EqualFold(k, DefaultTokenHeader) {
						for _, x := range list {
							if s, ok := x.(string); ok {
								values = append(values, s)
							}
						}
					}
				}
			}
		}
		for _, v := range values {
			if v != asJSONDecodes(ev.value) {
				t.Fatalf("read %q, but the event also holds %q", ev.value, v)
			}
		}
		if len(values) == 0 {
			t.Fatalf("read %q from an event with no such value", ev.value)
		}
	})
}

// asJSONDecodes replaces each invalid UTF-8 byte with U+FFFD, as
// encoding/json does when it decodes a string.
func asJSONDecodes(b []byte) string { return string([]rune(string(b))) }
