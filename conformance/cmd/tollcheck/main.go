// Command tollcheck runs the conformance suite (package conformance)
// against a stage and prints PASS, FAIL or SKIP for each row; it exits 1
// when a row fails.
//
//	go run ./conformance/cmd/tollcheck -target URL -key KEY \
//	    [-scoped-key KEY -scoped-route "GET /customers" -off-route "GET /hello"] \
//	    [-cors-origin ORIGIN] [-echo] [-http] \
//	    [-jwt TOKEN [-jwt-route "GET /hello"] [-jwt-authorizer]] \
//	    [-throttled-route "GET /throttled" -throttle-burst N] \
//	    [-plan-key KEY -plan-rate R -plan-burst N -plan-quota Q [-plan-route "GET /hello"]]
//
// -target is the stage's base URL (pulumi stack output url, or a local
// gateway's). -key is a key that may call every route; -scoped-key one
// limited to -scoped-route, which may not call -off-route. -cors-origin is
// the origin the stage allows, when it has corsAllowOrigin; -echo says its
// handler echoes events (TOLLGATE_ECHO_EVENTS=1 in api.yaml's env for the
// handler). -http checks an HTTP API, with the HTTP API rows. -jwt is a
// token from the stage's issuer that may call -jwt-route (with
// -jwt-authorizer when that route is an HTTP API's auth: jwt route);
// -throttled-route is a route with a throttle of its own in api.yaml, of
// burst -throttle-burst: the row sends ten requests more than the burst at
// once and wants 429s. -plan-key is a key on a small usage plan of the
// stage (docs/limits.md), of rate -plan-rate, burst -plan-burst and quota
// -plan-quota: its rows want 429 Too Many Requests past the burst and 429
// Limit Exceeded once the quota is spent, and spend it for the period. Rows
// whose setup the target lacks are skipped, and say so. No key or token is ever printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"tollgate/conformance"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tollcheck:", err)
			os.Exit(1)
		}
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tollcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var t conformance.Target
	fs.StringVar(&t.URL, "target", "", "the stage's base URL")
	fs.StringVar(&t.Key, "key", "", "a key that may call every route")
	fs.StringVar(&t.ScopedKey, "scoped-key", "", "a key limited to -scoped-route")
	fs.StringVar(&t.ScopedRoute, "scoped-route", "GET /customers", "the route -scoped-key may call")
	fs.StringVar(&t.OffRoute, "off-route", "GET /hello", "a route -scoped-key may not call")
	fs.StringVar(&t.CORSOrigin, "cors-origin", "", "the origin the stage allows, if any")
	fs.BoolVar(&t.Echo, "echo", false, "the stage's handler echoes events (TOLLGATE_ECHO_EVENTS=1)")
	fs.BoolVar(&t.HTTP, "http", false, "the stage is an HTTP API: check the HTTP API rows")
	fs.StringVar(&t.JWT, "jwt", "", "a JWT from the stage's issuer that may call -jwt-route")
	fs.StringVar(&t.JWTRoute, "jwt-route", "GET /hello", "the route -jwt may call")
	fs.BoolVar(&t.JWTAuthorizer, "jwt-authorizer", false, "-jwt-route is guarded by API Gateway's JWT authorizer (an HTTP API's auth: jwt route)")
	fs.StringVar(&t.ThrottledRoute, "throttled-route", "", "a route with a throttle of its own, that -key may call")
	fs.IntVar(&t.ThrottleBurst, "throttle-burst", 0, "the burst of -throttled-route's throttle")
	fs.StringVar(&t.PlanKey, "plan-key", "", "a key on a small usage plan of the stage (its quota is spent by the check)")
	fs.StringVar(&t.PlanRoute, "plan-route", "GET /hello", "the route -plan-key calls")
	fs.Float64Var(&t.PlanRate, "plan-rate", 0, "the plan's rate limit, requests a second")
	fs.IntVar(&t.PlanBurst, "plan-burst", 0, "the plan's burst limit")
	fs.IntVar(&t.PlanQuota, "plan-quota", 0, "the plan's quota limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if t.URL == "" || t.Key == "" {
		fs.Usage()
		return errors.New("-target and -key are required")
	}
	failed := 0
	for _, r := range conformance.Run(context.Background(), t, stdout) {
		if r.Err != nil {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d rows failed", failed)
	}
	return nil
}
