package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// The HTTP API pages the HTTP rows follow.
const (
	srcHTTPAuthorizer = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html"
	srcHTTPRoutes     = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html"
	srcHTTPEvent      = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html"
	srcHTTPCORS       = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html"
)

// An HTTP API's own answers.
const (
	msgForbidden = "Forbidden"
	msgNotFound  = "Not Found"
)

// HTTPRows are the suite for an HTTP API (Target.HTTP), in the order it
// runs them. The package doc's second table lists them.
func HTTPRows() []Row {
	get := func(path string, header map[string]string) request { return request{path: path, header: header} }
	status := func(r func(t *Target) request, want int, message string) func(ctx context.Context, t *Target) error {
		return func(ctx context.Context, t *Target) error {
			a, err := t.send(ctx, r(t))
			if err != nil {
				return err
			}
			if err := expect(a, want, message, ""); err != nil {
				return err
			}
			if a.header.Get("apigw-requestid") == "" {
				return fmt.Errorf("no apigw-requestid header (answer: %s)", a)
			}
			return nil
		}
	}
	fixed := func(r request) func(*Target) request { return func(*Target) request { return r } }
	keyed := func(path string) func(*Target) request {
		return func(t *Target) request { return get(path, bearer(t.Key)) }
	}
	scoped := func(route string) func(*Target) request {
		return func(t *Target) request {
			method, path := routeOf(t, route)
			return request{method: method, path: path, header: bearer(t.ScopedKey)}
		}
	}
	return []Row{
		{Name: "HTTP: no identity source: 401, authorizer not invoked", Source: srcHTTPAuthorizer,
			Check: status(fixed(get(protectedPath, nil)), 401, msgUnauthorized)},
		{Name: "HTTP: an unknown key: 403 Forbidden (isAuthorized false)", Source: srcHTTPAuthorizer,
			Check: status(fixed(get(protectedPath, bearer(unknownKey))), 403, msgForbidden)},
		{Name: "HTTP: a valid key: 200 from the integration", Source: srcHTTPAuthorizer,
			Check: status(keyed(protectedPath), 200, "")},
		{Name: "HTTP: a public route without a key: 200", Source: srcHTTPRoutes,
			Check: status(fixed(get(publicPath, nil)), 200, "")},
		{Name: "HTTP: an unknown path: 404 Not Found", Source: srcHTTPRoutes,
			Check: status(keyed("/no-such-route"), 404, msgNotFound)},
		{Name: "HTTP: an unknown method on a known path: 404 Not Found", Source: srcHTTPRoutes,
			Check: status(func(t *Target) request {
				return request{method: "DELETE", path: protectedPath, header: bearer(t.Key)}
			}, 404, msgNotFound)},
		{Name: "HTTP: an empty identity source: 401, authorizer not invoked", Source: srcHTTPAuthorizer,
			Check: status(fixed(get(protectedPath, map[string]string{"Authorization": ""})), 401, msgUnauthorized)},
		{Name: "HTTP: a route-scoped key on its route: 200", Source: srcHTTPAuthorizer, Needs: "scoped",
			Check: status(scoped("on"), 200, "")},
		{Name: "HTTP: a route-scoped key off its routes: 403 Forbidden", Source: srcHTTPAuthorizer, Needs: "scoped",
			Check: status(scoped("off"), 403, msgForbidden)},
		{Name: "HTTP: a cached answer never serves another route", Source: srcHTTPAuthorizer, Needs: "scoped",
			Check: func(ctx context.Context, t *Target) error {
				for i, which := range []string{"on", "off", "on", "off"} {
					want, message := 200, ""
					if which == "off" {
						want, message = 403, msgForbidden
					}
					if err := status(scoped(which), want, message)(ctx, t); err != nil {
						return fmt.Errorf("request %d (%s its route): %w", i+1, which, err)
					}
				}
				return nil
			}},
		{Name: "HTTP: a JWT on a route it may call: 200", Source: srcJWTAuthorizer, Needs: "jwt", Check: jwtOn},
		{Name: "HTTP: a JWT without its signature: 401 (JWT authorizer) or 403 (Lambda)", Source: srcJWTAuthorizer, Needs: "jwt", Check: jwtCut},
		{Name: "HTTP: a route's throttle: 429 Too Many Requests past its burst", Source: srcThrottling, Needs: "throttle", Check: throttled},
		{Name: "HTTP: event: payload 2.0 with lower-case header names", Source: srcHTTPEvent, Needs: "echo", Check: httpEvent},
		{Name: "HTTP: CORS preflight on any path: 204 from the API", Source: srcHTTPCORS, Needs: "cors", Check: httpPreflight},
		{Name: "HTTP: CORS: the integration's answer names the origin", Source: srcHTTPCORS, Needs: "cors",
			Check: func(ctx context.Context, t *Target) error {
				a, err := t.send(ctx, request{path: protectedPath, header: map[string]string{"Authorization": "Bearer " + t.Key, "Origin": t.CORSOrigin}})
				if err != nil {
					return err
				}
				if a.status != 200 || a.header.Get("Access-Control-Allow-Origin") != t.CORSOrigin {
					return fmt.Errorf("answer %s carries Access-Control-Allow-Origin %q, want %q", a, a.header.Get("Access-Control-Allow-Origin"), t.CORSOrigin)
				}
				return nil
			}},
	}
}

// httpPreflight: an HTTP API with a CORS configuration answers a
// preflight itself, on a path no route declares, without the authorizer.
func httpPreflight(ctx context.Context, t *Target) error {
	a, err := t.send(ctx, request{method: "OPTIONS", path: "/no-such-route", header: map[string]string{
		"Origin": t.CORSOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization",
	}})
	if err != nil {
		return err
	}
	if a.status != 204 || a.header.Get("Access-Control-Allow-Origin") != t.CORSOrigin || a.header.Get("Access-Control-Allow-Methods") == "" {
		return fmt.Errorf("preflight = %s, Access-Control-Allow-Origin %q, -Methods %q", a, a.header.Get("Access-Control-Allow-Origin"), a.header.Get("Access-Control-Allow-Methods"))
	}
	return nil
}

// routeOf is the target's scoped route ("on") or a route off it ("off").
func routeOf(t *Target, which string) (method, path string) {
	if which == "on" {
		return route(t.ScopedRoute)
	}
	return route(t.OffRoute)
}

// httpEvent: an HTTP API passes header names in lower case (payload
// format 2.0), with the Lambda authorizer's context.
func httpEvent(ctx context.Context, t *Target) error {
	e, _, err := t.echo(ctx, request{path: protectedPath, header: map[string]string{"Authorization": "Bearer " + t.Key, mixedCaseHeader: "b"}})
	if err != nil {
		return err
	}
	lower := strings.ToLower(mixedCaseHeader)
	if !slices.Contains(e.HeaderNames, lower) || e.EchoHeaders[lower] != "b" {
		return fmt.Errorf("the event's headers %v: want %q in lower case", e.HeaderNames, lower)
	}
	if id, _ := e.Authorizer["keyId"].(string); id == "" {
		return fmt.Errorf("the event's authorizer context %v has no keyId", e.Authorizer)
	}
	return nil
}
