package iam

import (
	"regexp"
	"strings"
	"testing"
)

// The rules follow the IAM user guide, "IAM JSON policy elements: Resource":
// "You can use wildcard characters (* and ?) within any ARN segment ... An
// asterisk (*) represents any combination of zero or more characters, and a
// question mark (?) represents any single character."
func TestMatch(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/42"
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{arn, arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*", arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*", arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/*", arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/4?", arn, true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/?", arn, false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/*", arn, false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/dev/*/*", arn, false},
		{"arn:aws:execute-api:us-east-1:123456789012:other/prod/*/*", arn, false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/get/*", arn, false}, // case-sensitive
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders", arn, false},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/", "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/", true},
		{"arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*", "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/", true}, // root resource
		{"*", "", true},
		{"", "", true},
		{"?", "", false},
		{"", "a", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbYcZ", false},
		{"a**c", "abc", true},
		{"*a", "bbbba", true},
		{"*a*", "b", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
		if got := Match(tt.pattern, []byte(tt.s)); got != tt.want {
			t.Errorf("Match(%q, []byte(%q)) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// globRegexp is an independent, obviously-correct model of the same rules.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for _, c := range []byte(pattern) {
		switch c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

func FuzzMatch(f *testing.F) {
	f.Add("a*b?c", "aXXbYc")
	f.Add("*/*", "GET/")
	f.Add("**?", "")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// The regexp model works on characters; keep both sides ASCII so a
		// byte is a character, as ARNs are.
		for _, c := range []byte(pattern + s) {
			if c >= 0x80 {
				return
			}
		}
		if got, want := Match(pattern, s), globRegexp(pattern).MatchString(s); got != want {
			t.Fatalf("Match(%q, %q) = %v, want %v", pattern, s, got, want)
		}
	})
}

func TestRouteResource(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"GET", "/orders", "GET/orders"},
		{"GET", "/orders/{id}", "GET/orders/*"},
		{"POST", "/tenants/{tenant}/orders/{id}", "POST/tenants/*/orders/*"},
		{"*", "/files/{proxy+}", "*/files/*"},
		{"GET", "/", "GET/"},
		{"GET", "/orders/*", "GET/orders/*"},
		// Braces inside a segment are not a parameter of API Gateway's.
		{"GET", "/a{b}c", "GET/a{b}c"},
	}
	for _, tt := range tests {
		if got := RouteResource(tt.method, tt.path); got != tt.want {
			t.Errorf("RouteResource(%q, %q) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
	if !Match(RouteResource("GET", "/orders/{id}"), "GET/orders/42") {
		t.Error("GET/orders/{id} does not cover GET/orders/42")
	}
	if Match(RouteResource("GET", "/orders/{id}"), "POST/orders/42") {
		t.Error("GET/orders/{id} covers POST/orders/42")
	}
}
