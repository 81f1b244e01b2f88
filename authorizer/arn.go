package authorizer

// The method ARN grammar: what an execute-api ARN in an event may hold,
// and where its stage prefix ends.

import (
	"errors"

	"tollgate/internal/iam"
)

// arnChar marks the bytes a method or route ARN may hold: visible ASCII but
// the IAM wildcards, the quote and the backslash. Refusing wildcards keeps a
// policy built from the ARN from covering more than the ARN names.
var arnChar = charClass(func(c byte) bool {
	return 0x21 <= c && c <= 0x7e && c != '*' && c != '?' && c != '"' && c != '\\'
})

var errBadARN = errors.New("not an execute-api method ARN")

// apiStagePrefix returns the length of arn's
// "arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/" prefix,
// checking every part: the prefix is what an Allow covers, so nothing in it
// may be a wildcard or out of its grammar. After the prefix there must be a
// route (a verb, and for REST a path).
func apiStagePrefix(arn []byte) (int, error) {
	if len(arn) > iam.MaxMethodARN {
		return 0, errBadARN
	}
	for _, c := range arn {
		if !arnChar[c] {
			return 0, errBadARN
		}
	}
	const head = "arn:"
	if len(arn) < len(head) || string(arn[:len(head)]) != head {
		return 0, errBadARN
	}
	i := len(head)
	i = arnPart(arn, i, &partitionChar, 1, 32, ':') // partition
	if i < 0 || len(arn)-i < len("execute-api:") || string(arn[i:i+len("execute-api:")]) != "execute-api:" {
		return 0, errBadARN
	}
	i += len("execute-api:")
	if i = arnPart(arn, i, &partitionChar, 1, 32, ':'); i < 0 { // region
		return 0, errBadARN
	}
	if i = arnPart(arn, i, &digitChar, 12, 12, ':'); i < 0 { // account
		return 0, errBadARN
	}
	if i = arnPart(arn, i, &apiIDChar, 1, 64, '/'); i < 0 { // API id
		return 0, errBadARN
	}
	if i = arnPart(arn, i, &apiStageChar, 1, 128, '/'); i < 0 || i == len(arn) { // stage, then a route
		return 0, errBadARN
	}
	return i, nil
}

// arnPart checks the run of min to max bytes of class that starts at i and
// the separator after it, and returns the index after the separator, or -1.
func arnPart(arn []byte, i int, class *[256]bool, min, max int, sep byte) int {
	start := i
	for i < len(arn) && class[arn[i]] {
		i++
	}
	if n := i - start; n < min || n > max || i == len(arn) || arn[i] != sep {
		return -1
	}
	return i + 1
}

var (
	partitionChar = charClass(func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' })
	digitChar     = charClass(func(c byte) bool { return '0' <= c && c <= '9' })
	apiIDChar     = charClass(isAlnum)
	// Stage names: letters, digits, - and _; HTTP APIs add $default.
	apiStageChar = charClass(func(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '$' })
)
