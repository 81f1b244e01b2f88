// Package verify holds what `make verify` (go run ./verify/cmd/tollverify)
// needs beyond the tests themselves: a load generator that checks every
// answer (Load), and the memory of a process tree (Snapshot), compared
// between two moments so that processes started in between are told apart
// from processes that grew (Compare). The command produces the evidence
// VERIFY.md records, each part rerunnable on its own:
//
//   - Timing: authorizer.TestTiming in several processes with many
//     measurements. It compares, in the manner of dudect
//     (internal/testkit/dudect), the whole decision from event bytes to answer for
//     pairs of input classes: near vs far misses, which stored key
//     matched, stored key lengths, the comparison alone, and, expected to
//     differ because the caller knows them, valid vs unknown keys, short vs
//     long tokens, 1 vs 100 keys. Each process also plants a leaky
//     comparison and must catch it.
//   - Fuzzing: every fuzz target for a bounded time, among them properties
//     (FuzzInvoke, FuzzPolicy, FuzzGateway, FuzzJWT): no Allow without a
//     stored key or a JWT an independent check finds valid, every Allow
//     inside the request's API and stage.
//   - Invariants: the promises docs/security-model.md states, each a
//     seeded property test over generated cases (internal/testkit/property),
//     run with many more cases than go test runs: the result cache never
//     changes an answer and no caller passes its route limit, over
//     generated APIs, keyrings, JWT scopes and requests; no removed key
//     outlives its bound, over generated schedules of changes, requests,
//     freezes, thaws and slow, failed and hung fetches; an issuer's new key
//     is accepted within its bound whatever made-up kids others send.
//   - Bad input and faults: the tests that feed malformed tokens, headers,
//     events and secrets, that break Secrets Manager in five ways at cold
//     start and on refresh, and that kill the authorizer's process under
//     load in the local gateway.
//   - Load: cmd/local with the real binaries, loaded from a second process
//     over loopback with a mix of valid, route-scoped and invalid keys,
//     cached and uncached: wrong answers, 5xx, requests per second,
//     p50/p99, and memory over the run; then every line the gateway and its
//     functions logged is scanned for key bytes (internal/testkit/leakscan). The
//     gateway starts function instances on demand, as Lambda does, so its
//     tree grows by whole processes up to the functions' bound; memory has
//     stopped growing when, over the second half, neither the gateway nor
//     the instances alive throughout grew by more than 10 %.
//   - A key table: cmd/local -keystore dynamodb reading a table of
//     100,000 keys (internal/emulator/localddb), every key sent once
//     (Load with as many requests as targets) with 1,000 unknown ones,
//     the result cache off: each request a GetItem, none answered wrongly.
//
// The quick test run (go test -race ./...) runs the same timing test with
// fewer measurements, every fuzz target's seed corpus, every invariant
// with a few dozen cases, and every bad-input and fault test.
package verify
