// Command authorizer is tollgate's Lambda authorizer function: the
// authorizer package served by the Lambda runtime. Build it as bootstrap for
// the provided.al2023 runtime (make lambdas).
//
// It is configured by environment variables:
//
//	variable                 default                   meaning
//	TOLLGATE_SECRET_ID       (required, or the table)  Secrets Manager secret name or ARN holding the keyring
//	TOLLGATE_TOKEN_HEADER    Authorization             header read from REQUEST and HTTP API events (any case)
//	TOLLGATE_TOKEN_SCHEME    Bearer                    scheme before the key; "none" takes the raw header value
//	TOLLGATE_KEY_TTL         5m                        longest time keys are used after the fetch that read them; refreshed from a fifth of it
//	TOLLGATE_KEY_MAX_STALE   30m                       how long the last good keys serve while refreshes fail
//	TOLLGATE_FETCH_TIMEOUT   3s                        bound on one fetch of the secret
//	TOLLGATE_LOG_LEVEL       info                      debug, info, warn or error
//	TOLLGATE_METRICS         on                        off leaves the CloudWatch embedded metrics out of the log lines (authorizer.Metrics)
//	TOLLGATE_KEY_TABLE       (none)                    a DynamoDB table of keys by digest, beside or instead of the secret (keyStore: dynamodb)
//	TOLLGATE_NEGATIVE_TTL    1m                        with a key table: how long a key the table lacks is remembered as unknown
//	TOLLGATE_JWT             (none: keys only)         JWT settings, a JSON object (docs/jwts.md): JWTs accepted beside keys
//	TOLLGATE_TLS_ROOTS       aws                       roots Secrets Manager's certificate is verified with: aws (Amazon Trust Services', embedded, then the system's), system, or a PEM bundle's path
//
// TOLLGATE_SECRET_STAGES is no longer read (only AWSCURRENT is): set, it
// stops the function at init with a message. This table is the one place
// these variables are described; TestEnvTable checks it.
//
// The AWS settings are those Lambda sets: AWS_REGION and the execution
// role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
// AWS_ENDPOINT_URL_SECRETS_MANAGER points it at another Secrets Manager
// endpoint (an emulator). Shared config files, SSO and instance metadata
// are not read (authorizer.SecretsManagerFromEnv), which keeps the binary
// small, and GetSecretValue is the authorizer's own request, signed by the
// SDK's Signature Version 4 signer, not the SDK's Secrets Manager client,
// whose initialisation and request machinery cost a 128 MB cold start
// about 5 ms of CPU (authorizer.SecretsManagerClient). Nor is the system's root store, unless the endpoint's certificate
// does not chain to one of the five roots of Amazon Trust Services that AWS
// endpoints use (embedded: authorizer/tlsroots): parsing the store was most
// of a 128 MB function's cold start.
//
// With TOLLGATE_JWT set, the issuer's JWKS is fetched at init beside the
// keys, over HTTPS from the function (no IAM permission is involved).
//
// It answers the Lambda Runtime API itself (authorizer.Serve), in place of
// aws-lambda-go's lambda.Start: after posting each answer, and before
// asking for the next event, it writes the decision line and refreshes keys
// (and the JWKS) that are due, where no caller waits and Lambda freezes
// nothing mid-way. No extension is registered, which saves its round trip
// per invocation.
//
// A configuration error ends the process during init, so Lambda reports an
// init failure and API Gateway answers 500: it fails closed.
package main

import (
	"context"
	"fmt"
	"os"

	"tollgate/authorizer"
)

func main() {
	a, err := authorizer.NewFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tollgate authorizer:", err)
		os.Exit(1)
	}
	// A failed fetch is already logged, and requests fail closed and
	// retry it until it succeeds.
	_ = a.Load(context.Background())
	err = a.Serve(os.Getenv("AWS_LAMBDA_RUNTIME_API"))
	fmt.Fprintln(os.Stderr, "tollgate authorizer:", err)
	os.Exit(1)
}
