package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The AWS pages the rows follow.
const (
	srcAuthorizer = "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html"
	srcOutput     = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html"
	src401        = "https://repost.aws/knowledge-center/api-gateway-401-error-lambda-authorizer"
	src403        = "https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer"
	srcMissing    = "https://repost.aws/knowledge-center/api-gateway-authentication-token-errors"
	srcResponses  = "https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html"
	srcCaching    = "https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html"
	srcQuotas     = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
	srcCORS       = "https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html"
	srcProxyEvent = "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format"
	srcBinary     = "https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html"
	srcScheme     = "https://www.rfc-editor.org/rfc/rfc9110#section-11.1"
)

// The messages of API Gateway's answers.
const (
	msgUnauthorized  = "Unauthorized"
	msgMissingToken  = "Missing Authentication Token"
	msgNotAllowed    = "User is not authorized to access this resource"
	msgTooLong       = "Request Too Long"
	protectedPath    = "/hello"
	publicPath       = "/health"
	bodyRoute        = "/orders"
	unknownKey       = "tgk_conformance_not_a_key_of_any_client_0000"
	lowerCaseHeader  = "x-echo-lower-case"
	mixedCaseHeader  = "X-Echo-MiXeD-Case"
	errUnauthorized  = "UnauthorizedException"
	errMissingToken  = "MissingAuthenticationTokenException"
	errAccessDenied  = "AccessDeniedException"
	quotaHeaderBytes = 10240
)

// Rows are the suite, in the order it runs them. The package doc's table
// lists them (TestDocTable keeps the two equal).
func Rows() []Row {
	get := func(path string, header map[string]string) request { return request{path: path, header: header} }
	status := func(r request, want int, message, errorType string) func(ctx context.Context, t *Target) error {
		return func(ctx context.Context, t *Target) error {
			a, err := t.send(ctx, r)
			if err != nil {
				return err
			}
			return expect(a, want, message, errorType)
		}
	}
	withKey := func(f func(key string) request, want int, message, errorType string) func(ctx context.Context, t *Target) error {
		return func(ctx context.Context, t *Target) error { return status(f(t.Key), want, message, errorType)(ctx, t) }
	}
	return []Row{
		{Name: "no Authorization header: 401", Source: src401,
			Check: status(get(protectedPath, nil), 401, msgUnauthorized, errUnauthorized)},
		{Name: "an empty Authorization header: 401", Source: srcAuthorizer,
			Check: status(get(protectedPath, map[string]string{"Authorization": ""}), 401, msgUnauthorized, errUnauthorized)},
		{Name: "a token the validation expression refuses: 401", Source: srcAuthorizer,
			Check: withKey(func(k string) request { return get(protectedPath, map[string]string{"Authorization": "Basic " + k}) }, 401, msgUnauthorized, errUnauthorized)},
		{Name: "an unknown key: 401", Source: src401,
			Check: status(get(protectedPath, bearer(unknownKey)), 401, msgUnauthorized, errUnauthorized)},
		{Name: "a valid key: 200 from the integration", Source: srcOutput,
			Check: withKey(func(k string) request { return get(protectedPath, bearer(k)) }, 200, "", "")},
		{Name: "the Bearer scheme in lower case: 200", Source: srcScheme,
			Check: withKey(func(k string) request { return get(protectedPath, map[string]string{"Authorization": "bearer " + k}) }, 200, "", "")},
		{Name: "a public route without a key: 200", Source: srcAuthorizer,
			Check: status(get(publicPath, nil), 200, "", "")},
		{Name: "every answer carries x-amzn-RequestId and x-amz-apigw-id", Source: srcResponses, Check: requestIDs},
		{Name: "an unknown path: 403 Missing Authentication Token", Source: srcMissing,
			Check: withKey(func(k string) request { return get("/no-such-route", bearer(k)) }, 403, msgMissingToken, errMissingToken)},
		{Name: "an unknown method on a known path: 403 Missing Authentication Token", Source: srcMissing,
			Check: withKey(func(k string) request { return request{method: "DELETE", path: protectedPath, header: bearer(k)} }, 403, msgMissingToken, errMissingToken)},
		{Name: "a route-scoped key on its route: 200", Source: srcOutput, Needs: "scoped", Check: scopedOn},
		{Name: "a route-scoped key off its routes: 403", Source: src403, Needs: "scoped", Check: scopedOff},
		{Name: "a cached answer is evaluated against each request's method ARN", Source: srcCaching, Needs: "scoped", Check: cachedPerRequest},
		{Name: "a JWT on a route its scopes grant: 200", Source: srcOutput, Needs: "jwt", Check: jwtOn},
		{Name: "a JWT without its signature: 401", Source: src401, Needs: "jwt", Check: jwtCut},
		{Name: "a route's throttle: 429 Too Many Requests past its burst", Source: srcThrottling, Needs: "throttle", Check: throttled},
		{Name: "a usage plan's throttle: 429 Too Many Requests past the key's burst", Source: srcPlans, Needs: "plan", Check: planThrottled},
		{Name: "a usage plan's quota: 429 Limit Exceeded once it is spent", Source: srcPlans, Needs: "plan", Check: planQuota},
		{Name: "headers past the 10,240-byte quota: 413, not customised", Source: srcQuotas, Check: tooLarge},
		{Name: "CORS preflight: the allowed origin", Source: srcCORS, Needs: "cors", Check: preflight},
		{Name: "CORS headers on an error answer", Source: srcCORS, Needs: "cors", Check: corsOnError},
		{Name: "event: header names as the client wrote them", Source: srcProxyEvent, Needs: "echo", Check: headerCase},
		{Name: "event: the authorizer's principalId and context", Source: srcProxyEvent, Needs: "echo", Check: authorizerContext},
		{Name: "event: resource, path, method and stage", Source: srcProxyEvent, Needs: "echo", Check: eventShape},
		{Name: "event: a text body as text", Source: srcProxyEvent, Needs: "echo", Check: textBody},
		{Name: "event: a binary body as text without binary media types", Source: srcBinary, Needs: "echo", Check: binaryAsText},
	}
}

func requestIDs(ctx context.Context, t *Target) error {
	for _, r := range []request{{path: protectedPath, header: bearer(t.Key)}, {path: protectedPath}, {path: "/no-such-route"}} {
		a, err := t.send(ctx, r)
		if err != nil {
			return err
		}
		if a.header.Get("x-amzn-RequestId") == "" || a.header.Get("x-amz-apigw-id") == "" {
			return fmt.Errorf("GET %s (%d): x-amzn-RequestId %q, x-amz-apigw-id %q", r.path, a.status, a.header.Get("x-amzn-RequestId"), a.header.Get("x-amz-apigw-id"))
		}
	}
	return nil
}

func scopedOn(ctx context.Context, t *Target) error {
	a, err := t.call(ctx, t.ScopedRoute, t.ScopedKey)
	if err != nil {
		return err
	}
	return expect(a, 200, "", "")
}

// scopedOff: 403 with the not-allowed message, whether the authorizer ran
// for this request or the answer cached from a request on its routes was
// evaluated: tollgate's answer for a key is the same on every route, and
// allows only the key's routes.
func scopedOff(ctx context.Context, t *Target) error {
	a, err := t.call(ctx, t.OffRoute, t.ScopedKey)
	if err != nil {
		return err
	}
	if err := expect(a, 403, "", errAccessDenied); err != nil {
		return err
	}
	if m := a.message(); m != msgNotAllowed {
		return fmt.Errorf("message %q, want %q", m, msgNotAllowed)
	}
	return nil
}

// cachedPerRequest: the authorizer's answer for a key is cached by its
// identity source, and the cached policy is evaluated against each
// request's own method ARN: on, off, on again.
func cachedPerRequest(ctx context.Context, t *Target) error {
	for i, f := range []func(context.Context, *Target) error{scopedOn, scopedOff, scopedOn} {
		if err := f(ctx, t); err != nil {
			return fmt.Errorf("request %d: %w", i+1, err)
		}
	}
	return nil
}

func tooLarge(ctx context.Context, t *Target) error {
	a, err := t.send(ctx, request{path: protectedPath, header: map[string]string{"X-Padding": strings.Repeat("a", quotaHeaderBytes+1024)}})
	if err != nil {
		return err
	}
	if err := expect(a, 413, msgTooLong, ""); err != nil {
		return err
	}
	if string(a.body) != `{"message":"Request Too Long"}` {
		return fmt.Errorf("body %s, want API Gateway's own", a.body)
	}
	return nil
}

func preflight(ctx context.Context, t *Target) error {
	a, err := t.send(ctx, request{method: "OPTIONS", path: protectedPath, header: map[string]string{
		"Origin": t.CORSOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization",
	}})
	if err != nil {
		return err
	}
	if a.status/100 != 2 || a.header.Get("Access-Control-Allow-Origin") != t.CORSOrigin || a.header.Get("Access-Control-Allow-Methods") == "" {
		return fmt.Errorf("preflight = %s, Access-Control-Allow-Origin %q, -Methods %q", a, a.header.Get("Access-Control-Allow-Origin"), a.header.Get("Access-Control-Allow-Methods"))
	}
	return nil
}

func corsOnError(ctx context.Context, t *Target) error {
	a, err := t.send(ctx, request{path: protectedPath, header: map[string]string{"Origin": t.CORSOrigin}})
	if err != nil {
		return err
	}
	if a.status != 401 || a.header.Get("Access-Control-Allow-Origin") != t.CORSOrigin {
		return fmt.Errorf("401 answer %s carries Access-Control-Allow-Origin %q, want %q", a, a.header.Get("Access-Control-Allow-Origin"), t.CORSOrigin)
	}
	return nil
}

func headerCase(ctx context.Context, t *Target) error {
	e, _, err := t.echo(ctx, request{path: protectedPath, header: map[string]string{
		"Authorization": "Bearer " + t.Key, lowerCaseHeader: "a", mixedCaseHeader: "b",
	}})
	if err != nil {
		return err
	}
	for _, name := range []string{lowerCaseHeader, mixedCaseHeader} {
		if !slices.Contains(e.HeaderNames, name) || !slices.Contains(e.MultiValueNames, name) {
			return fmt.Errorf("the event's headers %v do not name %q as sent", e.HeaderNames, name)
		}
	}
	if e.EchoHeaders[lowerCaseHeader] != "a" || e.EchoHeaders[mixedCaseHeader] != "b" {
		return fmt.Errorf("the event's header values %v", e.EchoHeaders)
	}
	return nil
}

func authorizerContext(ctx context.Context, t *Target) error {
	e, _, err := t.echo(ctx, request{path: protectedPath, header: bearer(t.Key)})
	if err != nil {
		return err
	}
	if p, _ := e.Authorizer["principalId"].(string); p == "" {
		return fmt.Errorf("requestContext.authorizer = %v: no principalId", e.Authorizer)
	}
	if id, _ := e.Authorizer["keyId"].(string); id == "" {
		return fmt.Errorf("requestContext.authorizer = %v: no keyId from the authorizer's context", e.Authorizer)
	}
	return nil
}

func eventShape(ctx context.Context, t *Target) error {
	e, _, err := t.echo(ctx, request{path: protectedPath, header: bearer(t.Key)})
	if err != nil {
		return err
	}
	if e.Resource != protectedPath || e.Path != protectedPath || e.HTTPMethod != "GET" || e.ResourcePath != protectedPath || e.Stage == "" || e.RequestID == "" || e.ExtendedID == "" {
		return fmt.Errorf("event = resource %q, path %q, method %q, resourcePath %q, stage %q, requestId %q, extendedRequestId %q",
			e.Resource, e.Path, e.HTTPMethod, e.ResourcePath, e.Stage, e.RequestID, e.ExtendedID)
	}
	return nil
}

func textBody(ctx context.Context, t *Target) error {
	const body = `{"order":42}`
	e, _, err := t.echo(ctx, request{method: "POST", path: bodyRoute, header: map[string]string{"Authorization": "Bearer " + t.Key, "Content-Type": "application/json"}, body: body})
	if err != nil {
		return err
	}
	if e.Body == nil || *e.Body != body || e.IsBase64Encoded {
		return fmt.Errorf("event body %v, isBase64Encoded %v; want %s as text", e.Body, e.IsBase64Encoded, body)
	}
	return nil
}

// binaryAsText: without binary media types, API Gateway passes any body to
// a proxy integration as text, never base64-encoded.
func binaryAsText(ctx context.Context, t *Target) error {
	e, _, err := t.echo(ctx, request{method: "POST", path: bodyRoute, header: map[string]string{"Authorization": "Bearer " + t.Key, "Content-Type": "application/octet-stream"}, body: "\xff\xfe\x00binary"})
	if err != nil {
		return err
	}
	if e.IsBase64Encoded {
		return errors.New("the event's body is base64-encoded (isBase64Encoded true), though the API declares no binary media types")
	}
	if e.Body == nil || !strings.HasSuffix(*e.Body, "binary") {
		return fmt.Errorf("event body %v, want the bytes as text", e.Body)
	}
	return nil
}
