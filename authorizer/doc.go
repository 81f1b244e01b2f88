// Package authorizer is tollgate's API Gateway Lambda authorizer: it checks
// the API key a caller presents against keys kept in AWS Secrets Manager
// (or, beside them, a JWT against its issuer's public keys; see JWTs) and
// answers with an IAM policy (REST APIs) or a simple response (HTTP APIs).
//
// It follows
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html and
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html.
//
// # Events
//
// The format is read from the event itself: a REST TOKEN event
// (authorizationToken, methodArn), a REST REQUEST event (headers and
// multiValueHeaders with the caller's casing, methodArn; HTTP API payload
// 1.0 has this shape too), or an HTTP API payload 2.0 event (version "2.0",
// lower-case headers, routeArn), answered with a simple response
// {"isAuthorized":…,"context":{…}}. Only the fields a decision needs are
// read, from the event bytes, without unmarshalling the event; the whole
// event is still checked to be well-formed JSON.
//
// # Keys
//
// The secret holds a Keyring document, {"keys":[{"id":…,"sha256":…}]}:
// per client its id, the SHA-256 digest of its key (never the key, so a
// reader of the secret cannot call the API), and optionally "routes" (the
// only routes it may call), "usageKey" (an API Gateway API key value for
// usage plans), "expires" (when the key stops), "disabled", and "previous"
// (keys replaced at a rotation, each with the "until" that ends its grace).
// Keyrings of earlier versions, with the key itself in "key" or a bare
// string as the whole secret, keep working (Keyring.ToDigests converts
// them). Errors name keys by id and routes by position, never by value.
//
// Keys made by NewKey are in the tollgate format, KeyPrefix, 32 random
// base62 characters and a CRC-32 checksum, which secret scanners find with
// KeyPattern; a token with the prefix and a wrong checksum is refused before
// any lookup.
//
// Only the version labelled AWSCURRENT is read, one GetSecretValue call per
// load: a rotation's grace is stated in the keyring, so removing a client
// ends its keys at the next refresh. Keys are loaded at start and used for
// at most Config.TTL after the fetch that read them started. From
// RefreshMargin (a fifth of the TTL) of age on they are refreshed ahead:
// after the response, before Lambda freezes the environment, by Serve (as
// deployed) or the internal Lambda extension (StartExtension), or else in
// the background. After the response, an environment invoked at least
// every SteadyGap (the TTL less the margin) never waits for a refresh; a
// request that finds keys past the TTL (an environment idle that long)
// waits for the refresh. If a
// refresh fails (Secrets Manager unreachable or throttled, or no answer
// within the fetch timeout while the function runs), the last good keys
// serve for up to Config.MaxStale, and then every request is an error. A
// fetch that times out after the environment could be frozen (the end of
// an invocation, the runtime or the extension asking for its next event) is cut off, not
// failed: Lambda froze it, and at the thaw its deadline had passed; it
// lets no stale key serve, and a request that waited on it fetches again.
// If the secret is found deleted, or its keyring fails validation, no key
// is served at all (an answer, not an outage: the authorizer cannot tell
// which keys the change meant to end); the invalid keyring is logged as an
// error carrying the KeyringInvalid metric at every refresh.
//
// For key sets past one secret (MaxKeyringBytes: some 675 clients), the
// keys can live in a DynamoDB table instead, one item per key (KeyItem),
// with Config.KeyTable (TOLLGATE_KEY_TABLE): a key the keyring lacks is
// looked up by its digest, one GetItem, and the answer kept for the key
// TTL (found) or KeyTable.NegativeTTL (not), in a cache of at most
// KeyTable.MaxCached keys; a failed lookup fails closed and is not kept.
// Every rule of the keyring holds of the table's keys
// (TestInvariantTableAnswersAsTheKeyring), and a key removed from the
// table is refused within the key TTL (TestTableStoreRemovalBound).
//
// Its log lines carry its metrics in CloudWatch's embedded metric format
// (Metrics, metrics.go): decisions by outcome and refusal reason, cold
// starts, the keyring's age, key and JWKS refreshes and their failures;
// none by client. Config.NoMetrics (TOLLGATE_METRICS=off) leaves them out.
//
// The longest time a key meant to be gone is still accepted, before API
// Gateway's result cache adds its TTL: an expired or rotated-out key, not
// past its instant; a removed or disabled key, Config.TTL after the change
// while Secrets Manager answers, however the environment is frozen and
// thawed, and Config.MaxStale after it while Secrets Manager fails
// (TestKeyEndWindows measures the windows with a fake clock;
// TestInvariantRemovedKeyBound holds the bound over generated schedules).
//
// SecretsManagerFromEnv's client cuts a call off when its answer does not
// begin within AttemptTimeout (a new connection's handshakes have
// HandshakeTimeout) and retries a failed one (5xx, throttling, timeouts,
// dropped or refused connections) after a pause of 50 to 200 ms,
// MaxAttempts in all; the whole fetch is still bounded by
// Config.FetchTimeout. It verifies the endpoint's certificate against the
// roots of Amazon Trust Services first, embedded, and reads the system's
// root store only if they do not verify it (EnvTLSRoots).
//
// # Security guarantees
//
// Comparison: the presented token is hashed with SHA-256 and compared with
// the digest of every stored key, all of them every time, without an early
// exit or any branch or memory access that depends on the data, inside
// crypto/subtle.WithDataIndependentTiming. The time taken depends on the
// length of the presented token and the number of stored keys, and not on
// whether, where or how closely a key matches, nor on stored key lengths.
// A token longer than MaxKeyLength is refused before it is hashed.
//
// Failing closed: an event that cannot be decided (not JSON, an unknown
// shape, no usable methodArn or routeArn, a REST method ARN whose route is
// not VERB/path) and a request made while no usable
// keys are held are errors, which API Gateway answers with 500. Nothing but
// a presented key equal to a stored key produces an Allow.
//
// Caching: API Gateway caches an authorizer's answer by token and applies
// it to later requests for other routes. A key without routes is therefore
// allowed on the whole stage, arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/*/*,
// and a key with routes on exactly those routes, whichever route it first
// called, with the same answer on its routes and off them: so the cached
// answer decides a later request as the authorizer would. IAM's "*"
// matches "/" too, so ANY becomes one resource per method, and a
// one-segment parameter ({id}) is allowed as "?*" with a Deny of its
// longer paths; each key's policy is proven exact (internal/routelang)
// when the keyring is read, and a route list no policy can state exactly
// is refused. Every limited key is also refused on a path holding a dot
// segment or an encoded ".", "/", "\" or "%". The partition (aws, aws-cn,
// aws-us-gov, …) is kept from the request's ARN. HTTP API simple
// responses carry no resources: an HTTP API request is decided by its API
// route and method (its routeKey), which are among the identity sources
// whenever answers are cached (api.Authorizer.HTTPIdentitySources), and a
// limited key is allowed a route only if its routes cover every path of
// it (CheckHTTPRouteLimit tells a deploy which limits cannot be kept).
//
// Logging: one JSON line per decision on standard output, with outcome,
// principal, reason, request id and duration (nanoseconds). Tokens, keys,
// usage keys and digests of any of them are never logged.
//
// # Outcomes
//
//	caller presents                          REST answer                          API Gateway   HTTP API answer
//	no token, or a malformed one             error "Unauthorized"                 401           {"isAuthorized":false}
//	several values for the token header      error "Unauthorized"                 401           {"isAuthorized":false}
//	an unknown key                           error "Unauthorized"                 401           {"isAuthorized":false}
//	a tgk_ key with a wrong checksum         error "Unauthorized"                 401           {"isAuthorized":false}
//	a disabled, expired or rotated-out key   error "Unauthorized"                 401           {"isAuthorized":false}
//	a known key                              Allow on the stage or its routes     200           {"isAuthorized":true,…}
//	a known key, outside its routes          the same answer, which allows        403           {"isAuthorized":false,…}
//	                                           none of the request (HTTP: a route
//	                                           its routes do not cover whole)
//	a JWT that fails a check (see JWTs)      error "Unauthorized"                 401           {"isAuthorized":false}
//	a valid JWT                              Allow on the stage or its scopes'    200           {"isAuthorized":true,…}
//	                                           routes (off them: 403)
//	a JWT, while no usable JWKS is held      error (ErrNoJWKS)                    500           error, 500
//	anything but a JWT, no usable keys held  error (ErrNoKeys)                    500           error, 500
//	a malformed event or method ARN          error (ErrMalformedEvent)            500           error, 500
//
// The token is read from Config.TokenHeader (Authorization by default,
// looked up ignoring case) after Config.Scheme (Bearer by default, matched
// ignoring case and followed by one or more spaces, then an RFC 6750
// b64token), or as the raw header value with SchemeNone. A header with
// several values, or a comma-joined value, is never split: it is refused.
// HTTP APIs have no 401 from a function, so their denials are simple
// responses that are not authorized, which API Gateway answers with 403.
//
// # JWTs
//
// With Config.JWT (TOLLGATE_JWT in a Lambda function) the authorizer also
// accepts JWTs from an identity provider, in the same header and scheme as
// keys: a token that is three base64url parts whose header starts "eyJ"
// is verified as a JWT, anything else is looked up among the keys. The
// token is parsed and its claims checked by github.com/golang-jwt/jwt/v5;
// the issuer's JWK Set is read from JWTConfig.JWKSURL by the same refresher
// as the keys (one fetch in flight, refreshed ahead after responses, the
// last good set serving up to JWTConfig.JWKSMaxStale while the issuer
// cannot be reached, then every JWT is an error, 500), and handed to
// github.com/MicahParks/keyfunc/v3 over a jwkset memory store, so no
// goroutine of theirs runs in a frozen Lambda environment. Keys for
// encryption, symmetric keys and private keys in the set are left out.
//
// A token is refused (401; a simple response that is not authorized, 403,
// on an HTTP API), each with its own logged reason, when it is longer than
// JWTConfig.MaxTokenLength, is not a well-formed JWS, names an algorithm
// outside JWTConfig.Algorithms (never "none" nor HMAC: an HS256 token keyed
// with a public key would otherwise verify), names a kid the set does not
// hold (the set is fetched again first, at most once per
// JWTConfig.KidRefetchInterval, for an issuer's new key, which is so
// accepted from that long after its publication on, whatever others
// send), has a signature
// that does not verify, has no exp or is past it, has an nbf or iat in the
// future (each with JWTConfig.Leeway), an iss other than JWTConfig.Issuer,
// an aud naming none of JWTConfig.Audiences, a required claim missing, or
// no usable principal (JWTConfig.PrincipalClaim, a string of 1 to 256
// characters without control characters). Errors never carry the token.
//
// A valid token's answer is a key's: Allow on the whole stage, or, with
// JWTConfig.ScopeRoutes, on exactly the routes its scopes grant (the same
// route grammar as Key.Routes; scopes whose limits would not merge exactly
// are refused), the same for whichever route it calls; its principal is
// JWTPrincipalPrefix and the principal claim ("jwt:alice"), which no key
// id may start with; its context is {"authType":"jwt","principal":…} and
// the claims of
// JWTConfig.ContextClaims as scalars. API Gateway caches the answer by
// token: a token past its exp is accepted until the answer expires from
// the result cache, as a removed key is. The authorizer itself remembers a
// token that passed, by its SHA-256 (at most 1,024 of them), while the
// JWKS that verified it is current and its exp allows, so that a caller's
// repeated token costs no second signature check.
//
// GatewayJWT applies the checks of API Gateway's own JWT authorizer with
// this code, for the local gateway's routes guarded by it.
//
// Timing is not a secret here. The key path compares in constant time
// because the stored digests are secrets a caller must not learn byte by
// byte. A JWT is checked against public keys only: the JWKS is published,
// the token and its claims are the caller's own, and no stored value is
// compared with it. What the decision's time can depend on (the
// algorithm, the token's size, which check failed, an unknown kid's
// refetch) the caller already knows, and learning it brings them no closer
// to a token that verifies: that takes the issuer's private key.
//
// # In a Lambda function
//
// NewFromEnv builds the authorizer from the function's environment: the
// TOLLGATE_* settings (FromEnv), and a Secrets Manager client configured
// only from the variables Lambda sets, AWS_REGION and the execution role's
// credentials, plus the SDKs' endpoint overrides (SecretsManagerFromEnv).
// cmd/authorizer is that call, Load, and Serve, which answers the Lambda
// Runtime API as lambda.Start would and writes the decision line and
// refreshes due keys after each answer.
//
// # Evidence
//
// TestTiming measures the decision in the manner of dudect for pairs of
// inputs a caller must not tell apart by time (and plants a leaky
// comparison to show it would be caught); the fuzz targets check that no
// Allow comes without a stored key and none reaches outside the request's
// stage; TestBadInput and TestSecretsManagerFaults feed malformed input and
// a failing Secrets Manager. VERIFY.md at the repository's root holds the
// latest figures.
//
// # Reading the code
//
// A decision, in file order: event.go reads the event (with the strict
// scanner of jsonscan.go), token.go takes the key out of the identity
// value, keystore.go holds and refreshes the keys (read by source.go,
// validated by keyring.go, keyformat.go for the key format), match.go
// compares the token with every digest in constant time, arn.go checks the
// method ARN's grammar, routes.go compiles a key's routes into an exact
// policy (and an HTTP API route's coverage), policy.go renders the answer, and authorizer.go
// ties them together in Invoke. jwt.go verifies JWTs (jwtconfig.go reads
// their settings, gatewayjwt.go applies API Gateway's JWT authorizer's
// checks), with the JWKS held by keystore.go's refresher.
// runtime.go answers the Lambda Runtime API (Serve), and does the work
// after each response: the decision line, refreshes due; extension.go is
// the internal Lambda extension that does that work for a program served
// by lambda.Start; env.go and awsenv.go read the function's
// environment.
//
// # Performance
//
// Authorizer implements lambda.Handler directly (no reflection), and Serve
// is its own runtime loop, with no extension's round trip; it reads the
// event in one pass without allocating, and reuses answers per stage
// prefix and key, rendered once by encoding/json from aws-lambda-go's
// answer types: a warm decision allocates nothing, on a key's routes or
// off them. The benchmarks in
// this package measure it from event bytes to answer bytes
// (BenchmarkInvoke) and the floor of reading an event (BenchmarkScanFloor);
// tollgate/bench compares it, warm and cold, in process and as a whole
// Lambda process, with what users would pick instead.
package authorizer
