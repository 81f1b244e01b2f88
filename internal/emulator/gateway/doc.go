// Package gateway is tollgate's local API Gateway: an http.Handler that
// serves an api.Definition the way API Gateway serves a REST API with a
// Lambda authorizer and Lambda proxy integrations, so that what runs on
// localhost behaves as what is deployed.
//
// It follows
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html,
// https://repost.aws/knowledge-center/api-gateway-401-error-lambda-authorizer and
// https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer.
// For each request:
//
//  0. A request whose request line and header values pass API Gateway's
//     quota of 10,240 bytes is REQUEST_TOO_LARGE (413).
//  1. The route is matched as API Gateway does (api.Definition.Match); no
//     route is MISSING_AUTHENTICATION_TOKEN (403). A route with a throttle
//     (api.Route.Throttle, the deploy's method settings) takes a token from
//     its bucket, refilled at its rate up to its burst; none left is
//     THROTTLED (429)
//     (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
//     This is checked before the authorizer: counting needs no key. The
//     stage's own throttle is not emulated.
//  2. On a protected route, every identity source must be present and not
//     empty, and a TOKEN authorizer's token must match the validation
//     regex; otherwise the answer is UNAUTHORIZED (401) and the authorizer
//     is not invoked.
//  3. The authorizer's answer is taken from the result cache (keyed by the
//     identity source values, for the definition's TTL; 0 turns it off) or
//     from invoking it. Its error "Unauthorized" is UNAUTHORIZED (401);
//     any other error, timeout or crash is AUTHORIZER_FAILURE (500); an
//     answer without principalId or policyDocument, with a context value
//     that is not a string, number or boolean, or with policy elements
//     this gateway does not evaluate (NotAction, NotResource, Condition)
//     is AUTHORIZER_CONFIGURATION_ERROR (500). Only answers are cached,
//     at most 10,000: a full cache drops expired answers, then others
//     until an eighth of it is free.
//  4. The policy, cached or not, is evaluated against this request's own
//     method ARN with IAM wildcards: a matching Deny is ACCESS_DENIED (403,
//     "… with an explicit deny"), no matching Allow is ACCESS_DENIED (403).
//     So a policy naming only the first request's method ARN denies the
//     caller's other routes until the cache entry expires, as on AWS.
//  5. With usage plans (Config.Plans), every protected method requires
//     an API key: the answer's usageIdentifierKey (cached with it), one of
//     the keys given to SetAPIKeys, else INVALID_API_KEY (403,
//     "Forbidden"). Its plan's throttle, per key (the route's own where
//     the plan has one), past which it is THROTTLED (429, "Too Many
//     Requests"), then its quota per period, past which it is
//     QUOTA_EXCEEDED (429, "Limit Exceeded"); only requests let through
//     are counted, and Usage reports them per UTC day (usage.go).
//  6. The integration receives a payload 1.0 proxy event whose
//     requestContext.authorizer holds principalId and the context values
//     as strings, and its answer is returned. A function error or a
//     malformed answer is 502 (DEFAULT_5XX, "Internal server error"), no
//     answer within the integration timeout is INTEGRATION_TIMEOUT (504).
//
// Every gateway response is rendered from the definition's gateway
// responses, the same ones the deploy program configures, and carries its
// x-amzn-ErrorType (api.ResponseType.ErrorType), except the 413 of step 0:
// API Gateway answers it with its own body, which no gateway response
// customises. Every answer carries x-amzn-RequestId (the event's and the
// access log's requestId) and x-amz-apigw-id (the extended request id, the
// event's and the access log's extendedRequestId); an HTTP API's carries
// apigw-requestid, its one id, the same in its events and access log. Every
// request writes one JSON access log line in the definition's access
// log format. Served through Serve, the events carry header names as the
// client wrote them ("x-lower-case", not Go's canonical "X-Lower-Case"),
// as API Gateway passes them.
//
// An HTTP API (api.HTTP) is served as httpapi.go describes, and its routes
// with api.Route.JWT through API Gateway's JWT authorizer as jwt.go
// describes.
package gateway
