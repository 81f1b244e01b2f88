package api

import (
	"mime"
	"regexp"
	"strings"
)

// mediaType is a binary media type as API Gateway takes it: type/subtype,
// either part "*"
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-configure-with-console.html).
var mediaType = regexp.MustCompile(`^(\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)/(\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)$`)

// IsBinary reports whether a Content-Type or Accept value names one of
// d's binary media types: its media type (parameters aside) matches one,
// case-insensitively, "*" matching any type or subtype.
func (d *Definition) IsBinary(value string) bool {
	if len(d.BinaryMediaTypes) == 0 || value == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(value)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(value, ";")[0]))
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok {
		return false
	}
	for _, b := range d.BinaryMediaTypes {
		bt, bs, _ := strings.Cut(strings.ToLower(b), "/")
		if (bt == "*" || bt == typ) && (bs == "*" || bs == sub) {
			return true
		}
	}
	return false
}
