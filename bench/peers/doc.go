// Package peers holds what tollgate's users would pick instead of its
// authorizer, written from their description for tollgate/bench to measure
// beside it on the same events and the same Secrets Manager endpoint:
//
//   - Idiomatic: the Go authorizer most users would write. lambda.Start
//     over typed functions taking the events package's structs, the
//     AWS SDK configured by config.LoadDefaultConfig, the keyring decoded
//     with encoding/json once at init, and keys compared with ==.
//   - Seed: the same, but the secret is fetched on every invocation.
//   - IdiomaticJWT: a JWT authorizer from the golang-jwt and keyfunc
//     READMEs (keyfunc.NewDefaultCtx, jwt.Parse), for the JWT figures.
//
// Both answer as tollgate does, an Allow on the whole stage for a known key
// and "Unauthorized" otherwise, so that only the implementation differs.
// They are benchmark subjects, not examples: == leaks timing, and a fetch
// per request costs a Secrets Manager call each time.
//
// Their Lambda mains are cmd/idiomatic and cmd/seed. cmd/hello is a
// hello-world aws-lambda-go function, the floor of a Go cold start, and
// python/seed_authorizer.py is the seeds' Python pattern (boto3, a fetch
// per invocation) with a minimal Lambda Runtime API loop, since the Python
// runtime interface client is not installed here.
package peers
