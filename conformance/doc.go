// Package conformance is one suite of API Gateway's behaviours with a
// Lambda authorizer, run as HTTP requests against a stage's base URL: the
// local gateway (started by this package's tests in go test ./...) or a
// deployed stage (go run ./conformance/cmd/tollcheck -target URL -key KEY
// …), printing PASS, FAIL or SKIP for each row. Every emulator drifts from
// AWS; this one can be compared with a real stage row by row.
//
// The rows, each citing the AWS page (or RFC) it follows (Rows has the
// full address); "needs" names what the target must be set up with, or
// the row is skipped: "scoped", a key limited to one route; "cors", the
// stage's CORS origin; "echo", the handler's echo mode
// (TOLLGATE_ECHO_EVENTS=1 in api.yaml's env for the handler); "jwt", a
// token from the stage's issuer and a route it may call (tollcheck -jwt);
// "throttle", a route with a throttle of its own and its burst (tollcheck
// -throttled-route); "plan", a key on a small usage plan of the stage,
// with the plan's rate, burst and quota (tollcheck -plan-key; its quota is
// spent for the period):
//
//	row                                                                  needs     source
//	no Authorization header: 401                                         -         re:Post api-gateway-401-error-lambda-authorizer
//	an empty Authorization header: 401                                   -         apigateway-use-lambda-authorizer.html
//	a token the validation expression refuses: 401                       -         apigateway-use-lambda-authorizer.html
//	an unknown key: 401                                                  -         re:Post api-gateway-401-error-lambda-authorizer
//	a valid key: 200 from the integration                                -         api-gateway-lambda-authorizer-output.html
//	the Bearer scheme in lower case: 200                                 -         rfc9110#section-11.1
//	a public route without a key: 200                                    -         apigateway-use-lambda-authorizer.html
//	every answer carries x-amzn-RequestId and x-amz-apigw-id             -         supported-gateway-response-types.html
//	an unknown path: 403 Missing Authentication Token                    -         re:Post api-gateway-authentication-token-errors
//	an unknown method on a known path: 403 Missing Authentication Token  -         re:Post api-gateway-authentication-token-errors
//	a route-scoped key on its route: 200                                 scoped    api-gateway-lambda-authorizer-output.html
//	a route-scoped key off its routes: 403                               scoped    re:Post api-gateway-403-error-lambda-authorizer
//	a cached answer is evaluated against each request's method ARN       scoped    configure-api-gateway-lambda-authorization.html
//	a JWT on a route its scopes grant: 200                               jwt       api-gateway-lambda-authorizer-output.html
//	a JWT without its signature: 401                                     jwt       re:Post api-gateway-401-error-lambda-authorizer
//	a route's throttle: 429 Too Many Requests past its burst             throttle  api-gateway-request-throttling.html
//	a usage plan's throttle: 429 Too Many Requests past the key's burst  plan      api-gateway-api-usage-plans.html
//	a usage plan's quota: 429 Limit Exceeded once it is spent            plan      api-gateway-api-usage-plans.html
//	headers past the 10,240-byte quota: 413, not customised              -         limits.html
//	CORS preflight: the allowed origin                                   cors      how-to-cors.html
//	CORS headers on an error answer                                      cors      how-to-cors.html
//	event: header names as the client wrote them                         echo      set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
//	event: the authorizer's principalId and context                      echo      set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
//	event: resource, path, method and stage                              echo      set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
//	event: a text body as text                                           echo      set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
//	event: a binary body as text without binary media types              echo      lambda-proxy-binary-media.html
//
// An HTTP API (tollcheck -http; Target.HTTP) is checked with HTTPRows
// instead, following the HTTP API pages: its authorizer's simple
// responses (401 without invoking it, 403 Forbidden, answers cached per
// route), 404 for no route, apigw-requestid, payload 2.0 events, and the
// API's own CORS configuration:
//
//	row                                                                      needs     source
//	HTTP: no identity source: 401, authorizer not invoked                    -         http-api-lambda-authorizer.html
//	HTTP: an unknown key: 403 Forbidden (isAuthorized false)                 -         http-api-lambda-authorizer.html
//	HTTP: a valid key: 200 from the integration                              -         http-api-lambda-authorizer.html
//	HTTP: a public route without a key: 200                                  -         http-api-develop-routes.html
//	HTTP: an unknown path: 404 Not Found                                     -         http-api-develop-routes.html
//	HTTP: an unknown method on a known path: 404 Not Found                   -         http-api-develop-routes.html
//	HTTP: an empty identity source: 401, authorizer not invoked              -         http-api-lambda-authorizer.html
//	HTTP: a route-scoped key on its route: 200                               scoped    http-api-lambda-authorizer.html
//	HTTP: a route-scoped key off its routes: 403 Forbidden                   scoped    http-api-lambda-authorizer.html
//	HTTP: a cached answer never serves another route                         scoped    http-api-lambda-authorizer.html
//	HTTP: a JWT on a route it may call: 200                                  jwt       http-api-jwt-authorizer.html
//	HTTP: a JWT without its signature: 401 (JWT authorizer) or 403 (Lambda)  jwt       http-api-jwt-authorizer.html
//	HTTP: a route's throttle: 429 Too Many Requests past its burst           throttle  api-gateway-request-throttling.html
//	HTTP: event: payload 2.0 with lower-case header names                    echo      http-api-develop-integrations-lambda.html
//	HTTP: CORS preflight on any path: 204 from the API                       cors      http-api-cors.html
//	HTTP: CORS: the integration's answer names the origin                    cors      http-api-cors.html
//
// TestDocTable keeps these tables equal to Rows and HTTPRows.
package conformance
