package pulumimock

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// The checks the rules are made of, in the manner of terraform-plugin-sdk
// helper/validation; each cites the source it copies.

func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v is not a string", v)
	}
	return s, nil
}

func num(v any) (float64, error) {
	n, ok := v.(float64)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	return n, nil
}

func match(pattern string, min, max int) func(any) error {
	re := regexp.MustCompile(pattern)
	return func(v any) error {
		s, err := str(v)
		if err != nil {
			return err
		}
		if n := utf8.RuneCountInString(s); n < min || n > max {
			return fmt.Errorf("%q is %d characters, want %d to %d", s, n, min, max)
		}
		if !re.MatchString(s) {
			return fmt.Errorf("%q does not match %s", s, pattern)
		}
		return nil
	}
}

func oneOf(values ...string) func(any) error {
	return func(v any) error {
		s, err := str(v)
		if err != nil {
			return err
		}
		if !slices.Contains(values, s) {
			return fmt.Errorf("%q is not one of %q", s, values)
		}
		return nil
	}
}

func between(lo, hi float64) func(any) error {
	return func(v any) error {
		n, err := num(v)
		if err != nil {
			return err
		}
		if n < lo || n > hi || n != float64(int64(n)) {
			return fmt.Errorf("%v is not a whole number from %v to %v", n, lo, hi)
		}
		return nil
	}
}

func inInts(values ...float64) func(any) error {
	return func(v any) error {
		n, err := num(v)
		if err != nil {
			return err
		}
		if !slices.Contains(values, n) {
			return fmt.Errorf("%v is not one of %v", n, values)
		}
		return nil
	}
}

func isJSON(v any) error {
	s, err := str(v)
	if err != nil {
		return err
	}
	if !json.Valid([]byte(s)) {
		return fmt.Errorf("%q is not JSON", s)
	}
	return nil
}

// validARN is tf internal/verify/validate.go ValidARN: an ARN whose
// partition, region and account are well formed.
func validARN(v any) error {
	s, err := str(v)
	if err != nil {
		return err
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return fmt.Errorf("%q is not an ARN", s)
	}
	partition, service, region, account := parts[1], parts[2], parts[3], parts[4]
	if !regexp.MustCompile(`^aws(-[a-z]+)*$`).MatchString(partition) {
		return fmt.Errorf("%q: partition %q", s, partition)
	}
	if service == "" || parts[5] == "" {
		return fmt.Errorf("%q: no service or resource", s)
	}
	if region != "" && !regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`).MatchString(region) {
		return fmt.Errorf("%q: region %q", s, region)
	}
	if account != "" && !regexp.MustCompile(`^(aws|aws-managed|third-party|\d{12}|cw.{10})$`).MatchString(account) {
		return fmt.Errorf("%q: account %q", s, account)
	}
	return nil
}

// functionName is tf internal/service/lambda/validate.go validFunctionName:
// a name or ARN of the pattern, at most 140 characters, the name itself at
// most 64.
func functionName(v any) error {
	s, err := str(v)
	if err != nil {
		return err
	}
	if err := match(`^(arn:[\w-]+:lambda:)?([a-z]{2}-(?:[a-z]+-){1,2}\d{1}:)?(\d{12}:)?(function:)?([0-9A-Za-z_-]+)(:(\$LATEST|[0-9A-Za-z_-]+))?$`, 1, 140)(s); err != nil {
		return err
	}
	name := s
	if i := strings.LastIndex(s, ":function:"); i >= 0 {
		name = s[i+len(":function:"):]
	}
	if len(name) > 64 {
		return fmt.Errorf("function name %q is %d characters, want at most 64", name, len(name))
	}
	return nil
}

func notARN(v any) error {
	if validARN(v) == nil {
		return fmt.Errorf("%v must be the role's name, not its ARN", v)
	}
	return nil
}

func noCurlyQuotes(v any) error {
	s, err := str(v)
	if err != nil {
		return err
	}
	if len(s) > 1000 || strings.ContainsAny(s, "“‘") {
		return fmt.Errorf("%q: at most 1000 characters, without “ or ‘", s)
	}
	return nil
}

func maxLen(n int) func(any) error {
	return func(v any) error {
		s, err := str(v)
		if err != nil {
			return err
		}
		if utf8.RuneCountInString(s) > n {
			return fmt.Errorf("%q is longer than %d characters", s, n)
		}
		return nil
	}
}

// openAPIBody is what API Gateway imports: an OpenAPI document, here one
// kin-openapi loads.
func openAPIBody(v any) error {
	s, err := str(v)
	if err != nil {
		return err
	}
	if _, err := openapi3.NewLoader().LoadFromData([]byte(s)); err != nil {
		return fmt.Errorf("not an OpenAPI document: %v", err)
	}
	return nil
}

// envNames is the Lambda API's rule for environment variable names,
// [a-zA-Z]([a-zA-Z0-9_])+
// (https://docs.aws.amazon.com/lambda/latest/api/API_Environment.html).
func envNames(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%v is not a map", v)
	}
	re := regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
	for k := range m {
		if !re.MatchString(k) {
			return fmt.Errorf("variable name %q does not match [a-zA-Z]([a-zA-Z0-9_])+", k)
		}
	}
	return nil
}

func oneArchitecture(v any) error {
	a, ok := v.([]any)
	if !ok || len(a) != 1 {
		return fmt.Errorf("%v: want exactly one architecture", v)
	}
	return oneOf("arm64", "x86_64")(a[0])
}

// routeSettings checks an HTTP API stage's route settings: each names a
// route key, METHOD /path or $default, and no logging level (a WebSocket
// API's).
func routeSettings(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%v is not a list", v)
	}
	key := regexp.MustCompile(`^(\$default|(ANY|DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT) /\S*)$`)
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("%v is not an object", e)
		}
		k, _ := m["routeKey"].(string)
		if !key.MatchString(k) {
			return fmt.Errorf("route key %q: want METHOD /path or $default", k)
		}
		if _, set := m["loggingLevel"]; set {
			return fmt.Errorf("route %s: a logging level is a WebSocket API's", k)
		}
	}
	return nil
}

// wholeAtLeast0 refuses what is not a whole number of at least 0.
func wholeAtLeast0(what string, v any) error {
	n, err := num(v)
	if err != nil || n < 0 || n != float64(int64(n)) {
		return fmt.Errorf("%s %v is not a whole number of at least 0", what, v)
	}
	return nil
}

// quotaSettings checks a usage plan's quota: a limit and a period, both
// required, and an offset, each a whole number of at least 0.
func quotaSettings(v any) error {
	q, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%v is not an object", v)
	}
	if _, ok := q["limit"]; !ok {
		return errors.New("a quota without a limit")
	}
	if _, ok := q["period"]; !ok {
		return errors.New("a quota without a period")
	}
	for _, k := range []string{"limit", "offset"} {
		if x, ok := q[k]; ok {
			if err := wholeAtLeast0(k, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// throttleSettings checks a throttle: a burst limit (whole) or a rate
// limit, at least one, neither below 0.
func throttleSettings(v any) error {
	t, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%v is not an object", v)
	}
	burst, hasBurst := t["burstLimit"]
	rate, hasRate := t["rateLimit"]
	switch {
	case !hasBurst && !hasRate:
		return errors.New("a throttle with neither burstLimit nor rateLimit")
	case hasBurst && wholeAtLeast0("burstLimit", burst) != nil:
		return wholeAtLeast0("burstLimit", burst)
	}
	if hasRate {
		if n, err := num(rate); err != nil || n < 0 {
			return fmt.Errorf("rateLimit %v is not a number of at least 0", rate)
		}
	}
	return nil
}

// usagePlanThrottlePath is a usage plan's method throttle's path: the
// method's resource path, '/', and its HTTP method ("/test/GET").
var usagePlanThrottlePath = regexp.MustCompile(`^/\S*/(DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT|ANY)$`)

// apiStages checks a usage plan's stages: each with an API and a stage,
// and method throttles keyed by a method's path.
func apiStages(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%v is not a list", v)
	}
	for i, item := range list {
		s, _ := item.(map[string]any)
		if s["apiId"] == nil || s["stage"] == nil {
			return fmt.Errorf("stage #%d: apiId and stage are required", i+1)
		}
		throttles, _ := s["throttles"].([]any)
		for _, t := range throttles {
			m, _ := t.(map[string]any)
			path, _ := m["path"].(string)
			if !usagePlanThrottlePath.MatchString(path) {
				return fmt.Errorf("stage #%d: throttle path %q is not a method's resource path, '/', and its method (/test/GET)", i+1, path)
			}
			if err := throttleSettings(m); err != nil {
				return fmt.Errorf("stage #%d: throttle %s: %w", i+1, path, err)
			}
		}
	}
	return nil
}
