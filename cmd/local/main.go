// Command local runs tollgate on this machine, with no AWS account: the
// API declared in api.yaml on 127.0.0.1:8080 through a local API Gateway,
// the authorizer and the API's functions as the same bootstrap binaries
// Lambda runs (built for this machine), and the keys in a local Secrets
// Manager endpoint.
//
//	go run ./cmd/local
//
// The first run generates a development key, prints it once and keeps its
// digest in .tollgate/keyring.json (git-ignored). Editing that file is
// like putting a new secret value: the authorizer reads it within its key
// TTL (-key-ttl); a key you remove stops then, and a rotated key's grace
// is its "previous" entry (go run ./cmd/tollkeys helps with both). A broken
// edit is reported when the file is saved.
//
// With -jwt-local it also serves a local JWT issuer, and
//
//	go run ./cmd/local mint -sub alice [-scope "orders:read"] [-ttl 1h] [-claim name=value]… [-state DIR]
//
// prints a token it signed, accepted beside keys.
//
// With -stack NAME it limits each client by the plans of Pulumi.NAME.yaml,
// as that stack's deploy does, and generates a key for each of the
// stack's clients (docs/limits.md).
//
// Its flags (-addr, -api, -keys, -secrets-endpoint, -secret-id, -key-ttl,
// -ttl, -authorizer-type, -api-type, -cors-origin, -region, -quiet, -state, -watch,
// -openapi, -jwt, -stack, -jwt-local) are the table in docs/running-locally.md, the one place
// they are described (TestFlagTable keeps it whole); -h lists them too.
//
// Ctrl-C stops it and every process it started; so does a SIGTERM to the
// go command of `go run ./cmd/local`.
//
// This command is a launcher (tollgate/internal/launch): `go run` compiles
// it in seconds; it says that it builds the local run
// (cmd/local/internal/local, which imports the AWS SDK: a minute or more
// the first time on a small machine), how long that takes, and becomes it.
package main

import (
	"os"

	"tollgate/internal/launch"
)

func main() {
	os.Exit(launch.Exec("./cmd/local/internal/local", "local", "the local run (cmd/local)"))
}
