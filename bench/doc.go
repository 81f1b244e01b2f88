// Package bench measures tollgate's authorizer beside what users would pick
// instead (tollgate/bench/peers), warm and cold, on the same events and the
// same Secrets Manager endpoint, in one run, so that the ratios hold on a
// noisy machine even when the absolute times drift.
//
// Every figure is a Go benchmark named figure/implementation, where the
// implementation is tollgate, idiomatic, seed, hello or python:
//
//	Warm/{TOKEN,REQUEST,HTTP}/{valid,invalid}/keys={1,100}
//	    a warm decision in process, from event bytes to answer bytes, with
//	    allocations and Secrets Manager calls per request (sm-calls/op)
//	ColdInProcess/TOKEN
//	    a fresh authorizer (empty cache) making its first decision,
//	    configuration and the Secrets Manager fetch included
//	WarmProcess/TOKEN
//	    a warm Lambda process answering through the Lambda Runtime API, with
//	    its Secrets Manager calls per request
//	ColdProcess/TOKEN
//	    the real bootstrap started behind a Lambda Runtime API on loopback:
//	    init-ns/op is the time from exec to its first call to next, cold-ns/op
//	    the time from exec to its first answer (tollgate/internal/emulator/lambdalocal)
//	JWTWarm/{RS256,ES256}/{repeated,fresh}
//	    a warm JWT decision in process, the same token each time or a new
//	    one each time, beside peers.IdiomaticJWT
//	JWTColdInProcess/ES256
//	    a fresh authorizer's first JWT decision, the JWKS fetch included
//	Gateway/{cached,uncached}[-plans]
//	    the local gateway's request path in process, with the authorizer's
//	    result cache and without; -plans with a usage plan's throttle and
//	    quota applied to the caller's API key
//	Warm/TOKEN/usage-key
//	    a warm decision for a key on a usage plan, whose answer names its
//	    API key
//
// The Secrets Manager endpoint is tollgate/internal/emulator/localsm on loopback,
// counting its calls. It answers in tens of microseconds where AWS takes
// milliseconds, so a fetch per request costs the seed pattern far more on
// AWS than here.
//
// go run ./bench/cmd/tollbench runs every figure several times and prints
// the table of medians and ratios that bench/README.md keeps, with the
// binary sizes and the targets.
package bench

// Functions are the Go Lambda functions measured, by implementation: the
// packages to build as bootstrap.
var Functions = map[string]string{
	"tollgate":  "./cmd/authorizer",
	"idiomatic": "./bench/peers/cmd/idiomatic",
	"seed":      "./bench/peers/cmd/seed",
	"hello":     "./bench/peers/cmd/hello",
}

// PythonPeer is the seeds' Python authorizer, relative to the module root.
const PythonPeer = "bench/peers/python/seed_authorizer.py"
