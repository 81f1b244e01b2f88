// Command tollkeys manages a tollgate keyring file (the document the
// authorizer reads from the secret) or a key table (dynamodb:TABLE, the
// DynamoDB key store for key sets past one secret: docs/keys.md), both of
// which hold digests of keys, never the keys. A new key is printed once,
// on standard output, and never again.
//
//	go run ./cmd/tollkeys new     -id ID [-routes 'GET /a,POST /b'] [-expires 2027-06-30T00:00:00Z] FILE
//	go run ./cmd/tollkeys rotate  -id ID [-grace 24h] FILE
//	go run ./cmd/tollkeys remove  -id ID FILE
//	go run ./cmd/tollkeys disable -id ID FILE
//	go run ./cmd/tollkeys enable  -id ID FILE
//	go run ./cmd/tollkeys list    FILE       # the clients, by id: state, routes, expiry, keys in grace
//	go run ./cmd/tollkeys digest  FILE       # replace plain keys by their digests
//	go run ./cmd/tollkeys check   FILE       # validate, as the authorizer does
//	go run ./cmd/tollkeys scan    [FILE...]  # find tollgate keys in text (stdin without FILE)
//	go run ./cmd/tollkeys refresh -api-id ID -stage STAGE -function NAME [-region R] [-endpoint URL]
//	go run ./cmd/tollkeys usage   -api-id ID -stage STAGE [-region R] [-days 7] [-json]
//	go run ./cmd/tollkeys usage   -local [-credentials FILE] [-days 7] [-json]
//	go run ./cmd/tollkeys last-used -log-group GROUP [-region R] [-days 30] [-keyring FILE] [-json]
//	go run ./cmd/tollkeys last-used -local [-access-log FILE] [-days 30] [-keyring FILE] [-json]
//
// new, rotate, remove, disable, enable and list work the same on a key
// table, named dynamodb:TABLE where FILE is (the stack output keyTable),
// with two more commands:
//
//	go run ./cmd/tollkeys import -from FILE dynamodb:TABLE   # a keyring's clients into the table
//	go run ./cmd/tollkeys export -to FILE dynamodb:TABLE     # the table's clients as a new keyring file
//
// A table is reached with the AWS configuration's Region and credentials
// (-region; AWS_PROFILE and the AWS_* variables), at -endpoint, else
// AWS_ENDPOINT_URL_DYNAMODB, else DynamoDB's endpoint in the Region. Each
// change of a client is one conditional transaction of its items; a client
// the stack's settings made (tollgate:clients) is left to the stack.
// import leaves a client the table holds with the same keys as it is, and
// refuses, writing nothing, one it holds with other keys.
//
// rotate gives the client a new key and keeps its current one as a
// previous key until now + grace (0 ends it at once); previous keys whose
// grace has ended are dropped. Every change is validated before the file
// is replaced (written to a temporary file, then renamed, mode 0600).
//
// Locally, `go run ./cmd/local` serves .tollgate/keyring.json: edit it
// with this command and the authorizer picks the change up within its key
// TTL. On AWS, the keyring is the secret's value:
//
//	aws secretsmanager get-secret-value --secret-id ID --query SecretString --output text > keyring.json
//	go run ./cmd/tollkeys rotate -id reports -grace 24h keyring.json
//	aws secretsmanager put-secret-value --secret-id ID --secret-string file://keyring.json
//
// A stack deployed with `pulumi up` manages its keyring itself: rotate
// there with the rotations setting instead.
//
// refresh makes a removal take effect at once rather than within the
// documented window (the authorizer's key TTL plus the stage's result
// cache TTL): it replaces every warm authorizer (a change to the
// function's configuration, the TOLLGATE_REFRESHED_AT variable, makes
// Lambda start new environments, which load the keys at init), waits for
// the update, then flushes the stage's authorizer cache. With -endpoint it
// talks to the local run's control endpoint instead (`go run ./cmd/local`
// prints the whole line). On a stack deployed with `pulumi up`, the next up
// removes the variable again, which replaces the environments once more.
// It needs lambda:GetFunctionConfiguration,
// lambda:UpdateFunctionConfiguration and apigateway:DELETE on the stage's
// cache.
//
// usage prints, for each client on a usage plan of the stage (docs/limits.md),
// its plan, its requests on each UTC day of the last -days (a bar per
// day), their total and what is left of its quota, read from API
// Gateway (GetUsagePlans, GetUsagePlanKeys, GetUsage: it needs
// apigateway:GET on /usageplans and /usageplans/*). -local reads a local
// run's (go run ./cmd/local -stack NAME), through its control endpoint;
// -json prints the same for scripts.
//
// last-used prints, for each client that called in the last -days, its
// last request and its request count, from the stage's access log: on
// AWS with a Logs Insights query on -log-group (the deploy's
// /aws/apigateway/STACK/STAGE/access; it needs logs:StartQuery and
// logs:GetQueryResults), locally from the run's .tollgate/access.log.
// With -keyring, the keyring's clients that made no request are listed
// too, as "none in the period": a key to remove without breaking anyone.
// -principal-key and -time-key name the access log's keys when a Pulumi
// program of your own gives the Definition another AccessLog.
//
// scan prints file:line for each tollgate key (authorizer.KeyPattern with a
// valid checksum) it finds, never the key: use it in CI or a pre-commit
// hook. It exits 1 if it found any.
//
// This command is a launcher (tollgate/internal/launch): `go run` compiles
// it in seconds; it says that it builds tollkeys
// (cmd/tollkeys/internal/tollkeys, which imports the AWS SDK for refresh,
// usage and last-used:
// a minute or more the first time on a small machine), how long that
// takes, and becomes it.
package main

import (
	"os"

	"tollgate/internal/launch"
)

func main() {
	os.Exit(launch.Exec("./cmd/tollkeys/internal/tollkeys", "tollkeys", "tollkeys (cmd/tollkeys)"))
}
