// Package acceptance is tollgate's run on real AWS, for users and
// maintainers with an account. It is a test, skipped with one line unless
// asked for:
//
//	TOLLGATE_AWS_ACCEPTANCE=1 go test ./acceptance -run TestAWS -v -timeout 60m
//
// It needs the Pulumi CLI on the PATH and AWS credentials that may create
// IAM roles (the AWS CLI's: environment, profile, SSO). Through Pulumi's
// Automation API it deploys a copy of this checkout as a uniquely named
// stack, in a local Pulumi backend of its own (nothing in your Pulumi
// account), and then:
//
//  1. runs the conformance suite (tollgate/conformance) against the
//     stage's URL with a full key and a key limited to GET /customers,
//     CORS and the handler's echo mode on, and a route GET /throttled
//     with a throttle of its own (burst 1): every row must pass, the
//     route's 429 past its burst among them;
//  2. runs `up` again and checks that the engine changes nothing;
//  3. rotates the full client's key with a 15-minute grace and checks
//     that the old key keeps working and the new one starts to;
//  4. removes the route POST /orders and checks that it is gone
//     (403 Missing Authentication Token);
//  5. switches apiType to http in one `up`, runs the HTTP API rows, and
//     runs `up` again to check that nothing changes;
//  6. destroys the stack, and checks with the Resource Groups Tagging API
//     that no resource tagged with the stack remains.
//
// The JWT rows need an issuer you run: TOLLGATE_AWS_JWT is a token from
// it, TOLLGATE_AWS_JWT_SETTINGS the stack's jwt setting (docs/jwts.md)
// under which the token may call TOLLGATE_AWS_JWT_ROUTE (default
// GET /hello). With them, the REST stage checks the token through
// tollgate's authorizer, and the HTTP API adds GET /reports with auth: jwt
// and checks it through API Gateway's JWT authorizer. Without them the JWT
// rows are left out, and the run says so.
//
// The stack is destroyed whatever happens. It runs in AWS_REGION (default
// eu-west-1). What it costs is in docs/deploying.md's "Checking a deployed stage".
package acceptance
