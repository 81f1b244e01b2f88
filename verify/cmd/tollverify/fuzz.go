package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// The fuzz step: every fuzz target for a while.

var fuzzTargets = []struct{ pkg, name, what string }{
	{"./authorizer", "FuzzExtract", "token extraction"},
	{"./authorizer", "FuzzParseEvent", "event decoding"},
	{"./authorizer", "FuzzScanner", "the JSON scanner under it"},
	{"./authorizer", "FuzzParseKeyring", "keyring parsing"},
	{"./authorizer", "FuzzPolicy", "ARN and policy building"},
	{"./authorizer", "FuzzInvoke", "whole decisions: Allow only for a stored key, inside the request's stage"},
	{"./internal/emulator/gateway", "FuzzGateway", "the local gateway's request handling"},
	{"./internal/iam", "FuzzMatch", "IAM wildcard matching"},
	{"./internal/routelang", "FuzzMatch", "route and IAM glob languages, against IAM's matcher and a regexp"},
	{"./api", "FuzzMatch", "route matching"},
	{"./api", "FuzzTemplate", "gateway response templates"},
	{"./handler", "FuzzInvoke", "the handler's events"},
	{"./authorizer", "FuzzSWARJSONSpecial", "the scanner's word-at-a-time search"},
	{"./authorizer", "FuzzJWT", "JWT decisions: an answer only for a token an independent check finds valid"},
	{"./authorizer", "FuzzDecisionLine", "the decision line, byte for byte slog's JSON"},
	{"./authorizer", "FuzzInvokeDeadline", "the extension's events, as encoding/json reads them"},
	{"./plans", "FuzzParsePlans", "the plans setting: plans or an error, never a panic"},
	{"./internal/emf", "FuzzParse", "embedded metric lines: metrics or an error, as CloudWatch extracts them"},
	{"./internal/lastuse", "FuzzRead", "access log lines: a client's requests within the period, never more than its lines"},
}

var execsRE = regexp.MustCompile(`execs: (\d+)`)

func fuzz(ctx context.Context, root string, o options, b *strings.Builder) bool {
	ok := true
	fmt.Fprintf(b, "## Fuzzing\n\nEach target for %s (`go test -run '^$' -fuzz '^Target$' -fuzztime %s PKG`). A failure's input is kept in the package's testdata/fuzz and becomes a test.\n\n", o.fuzzTime, o.fuzzTime)
	fmt.Fprintln(b, "| target | what | executions | result |")
	fmt.Fprintln(b, "|---|---|---|---|")
	for _, t := range fuzzTargets {
		out, err := goCmd(ctx, root, nil, "test", "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", o.fuzzTime.String(), t.pkg)
		execs := "?"
		if m := execsRE.FindAllSubmatch(out, -1); len(m) > 0 {
			execs = string(m[len(m)-1][1])
		}
		result := "passed"
		if err != nil {
			result, ok = "**FAILED**", false
			fmt.Fprintf(os.Stderr, "%s %s:\n%s", t.pkg, t.name, lastLines(out, 30))
		}
		fmt.Fprintf(b, "| %s %s | %s | %s | %s |\n", strings.TrimPrefix(t.pkg, "./"), t.name, t.what, execs, result)
	}
	fmt.Fprintln(b)
	return ok
}
