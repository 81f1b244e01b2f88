package authorizer

import (
	"errors"
	"fmt"
)

// EventFormat is the shape of an authorizer event, detected from the event
// itself.
type EventFormat uint8

const (
	// FormatToken is a REST API TOKEN authorizer event: the token source
	// header's value in authorizationToken, and methodArn.
	FormatToken EventFormat = iota + 1
	// FormatRequest is a REST API REQUEST authorizer event (also HTTP API
	// payload format 1.0): headers and multiValueHeaders with the caller's
	// casing, and methodArn.
	FormatRequest
	// FormatHTTP is an HTTP API payload format 2.0 event: version "2.0",
	// lower-case headers, and routeArn. It is answered with a simple
	// response, {"isAuthorized":…,"context":{…}}.
	FormatHTTP
)

func (f EventFormat) String() string {
	switch f {
	case FormatToken:
		return "TOKEN"
	case FormatRequest:
		return "REQUEST"
	case FormatHTTP:
		return "HTTP 2.0"
	}
	return "unknown"
}

// identity says what an event held where the token should be.
type identity uint8

const (
	identityMissing   identity = iota // no value, null, or empty
	identityPresent                   // exactly one value
	identityAmbiguous                 // several values: never guess which one counts
)

// event holds the fields of an authorizer event that a decision reads. Its
// slices point into the event bytes unless the event escaped them.
type event struct {
	format   EventFormat
	arn      []byte
	value    []byte // the identity source's value, when identity is identityPresent
	identity identity
	routeKey []byte // an HTTP API's route ("GET /orders/{id}", "$default")
}

// parseEvent reads an event, looking the token up in header (ignored for
// TOKEN events, whose token API Gateway has already read). Every error wraps
// ErrMalformedEvent.
func parseEvent(data []byte, header string) (event, error) {
	ev, err := scanEvent(data, header)
	if err != nil {
		return event{}, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	return ev, nil
}

// Field names of the events, as the AWS docs spell them.
const (
	fieldType       = "type"
	fieldVersion    = "version"
	fieldToken      = "authorizationToken"
	fieldMethodARN  = "methodArn"
	fieldRouteARN   = "routeArn"
	fieldRouteKey   = "routeKey"
	fieldHeaders    = "headers"
	fieldMultiValue = "multiValueHeaders"
)

var (
	errDuplicateField = errors.New("duplicate field")
	errUnknownShape   = errors.New("neither a TOKEN, a REQUEST nor an HTTP API 2.0 event")
	errNoARN          = errors.New("no methodArn or routeArn")
	errNoRouteKey     = errors.New("an HTTP API event without its routeKey")
	errFieldType      = errors.New("field of the wrong type")
)

// scanEvent reads the fields a decision needs from an event, and checks
// the rest is well-formed JSON, in one pass. It is long for a reason: one
// loop over the top-level fields with their seen-bits in one word and the
// header objects searched as they are read, so that the bytes of a REQUEST
// event are scanned once and nothing is allocated.
func scanEvent(data []byte, header string) (event, error) {
	var (
		typ, version, token, methodARN, routeARN, routeKey []byte
		seen                                               uint8
		hv                                                 struct {
			single, multi []byte
			n, nMulti     int
		}
	)
	s := scanner{data: data}
	empty, err := s.objectStart()
	if err != nil {
		return event{}, err
	}
	for !empty {
		m, err := s.key()
		if err != nil {
			return event{}, err
		}
		const headersBit, multiValueBit = 1 << 5, 1 << 6
		var dst *[]byte
		var bit uint8
		switch {
		case m.is(fieldType):
			dst, bit = &typ, 1<<0
		case m.is(fieldVersion):
			dst, bit = &version, 1<<1
		case m.is(fieldToken):
			dst, bit = &token, 1<<2
		case m.is(fieldMethodARN):
			dst, bit = &methodARN, 1<<3
		case m.is(fieldRouteARN):
			dst, bit = &routeARN, 1<<4
		case m.is(fieldRouteKey):
			dst, bit = &routeKey, 1<<7
		case m.is(fieldHeaders):
			bit = headersBit
		case m.is(fieldMultiValue):
			bit = multiValueBit
		}
		if seen&bit != 0 {
			return event{}, errDuplicateField
		}
		seen |= bit
		// The header objects are searched as they are read, so the bytes
		// of a REQUEST event are scanned once.
		switch bit {
		case headersBit:
			hv.single, hv.n, err = lookupHeader(&s, header, false)
		case multiValueBit:
			hv.multi, hv.nMulti, err = lookupHeader(&s, header, true)
		default:
			var v []byte
			if v, err = s.value(1); dst != nil {
				*dst = v
			}
		}
		if err != nil {
			return event{}, err
		}
		if empty, err = s.listNext('}'); err != nil {
			return event{}, err
		}
	}
	if !s.end() {
		return event{}, errSyntax
	}

	var ev event
	typeName, _, err := stringField(typ)
	if err != nil {
		return event{}, err
	}
	versionName, hasVersion, err := stringField(version)
	if err != nil {
		return event{}, err
	}
	switch {
	case hasVersion && string(versionName) == "2.0" && string(typeName) == "REQUEST":
		ev.format = FormatHTTP
	case hasVersion && string(versionName) != "1.0":
		return event{}, errUnknownShape
	case string(typeName) == "TOKEN":
		ev.format = FormatToken
	case string(typeName) == "REQUEST":
		ev.format = FormatRequest
	default:
		return event{}, errUnknownShape
	}

	arnField := methodARN
	if ev.format == FormatHTTP {
		arnField = routeARN
	}
	arn, ok, err := stringField(arnField)
	if err != nil {
		return event{}, err
	}
	if !ok || len(arn) == 0 {
		return event{}, errNoARN
	}
	ev.arn = arn

	switch ev.format {
	case FormatToken:
		v, ok, err := stringField(token)
		if err != nil {
			return event{}, err
		}
		ev.setValue(v, b2i(ok))
	case FormatRequest:
		v, n, mv, mn := hv.single, hv.n, hv.multi, hv.nMulti
		switch {
		case n > 1 || mn > 1:
			ev.identity = identityAmbiguous
		case n == 1 && mn == 1 && string(v) != string(mv):
			// headers and multiValueHeaders disagree: the event was not
			// built by API Gateway from one request, so trust neither.
			ev.identity = identityAmbiguous
		case n == 1:
			ev.setValue(v, 1)
		default:
			ev.setValue(mv, mn)
		}
	case FormatHTTP:
		ev.setValue(hv.single, hv.n)
		// The decision is the API route's (routeLimit.covers), which an
		// HTTP API always names.
		if ev.routeKey, ok, err = stringField(routeKey); err != nil || !ok || len(ev.routeKey) == 0 {
			return event{}, errNoRouteKey
		}
	}
	return ev, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setValue records the identity value found n times.
func (ev *event) setValue(v []byte, n int) {
	switch {
	case n > 1:
		ev.identity = identityAmbiguous
	case n == 1 && len(v) > 0:
		ev.identity, ev.value = identityPresent, v
	default:
		ev.identity = identityMissing
	}
}

// stringField decodes a top-level field's raw value: absent or null give
// ok=false; a string gives its decoded contents; anything else is an error.
func stringField(raw []byte) (v []byte, ok bool, err error) {
	if raw == nil {
		return nil, false, nil
	}
	s := scanner{data: raw}
	v, ok, err = s.stringOrNull()
	if err != nil {
		return nil, false, errFieldType
	}
	return v, ok, nil
}

// lookupHeader reads a headers object, or with multi a multiValueHeaders
// object, or null, at the scanner's position. It returns how many values
// name has in it, ignoring case, and one of them (the only one when n is 1).
// Two members whose names differ only in case are two values of one header.
func lookupHeader(s *scanner, name string, multi bool) (v []byte, n int, err error) {
	if s.peek() == 'n' {
		_, err := s.literal("null") // "headers": null, as API Gateway sends for none
		return nil, 0, err
	}
	empty, err := s.objectStart()
	if err != nil {
		return nil, 0, errFieldType
	}
	for !empty {
		m, err := s.key()
		if err != nil {
			return nil, 0, err
		}
		switch {
		case !m.foldIs(name):
			_, err = s.value(2)
		case !multi:
			err = s.headerValue(&v, &n)
		case s.peek() == 'n':
			_, err = s.literal("null")
		case s.peek() != '[':
			err = errFieldType
		default:
			s.pos++
			done := s.peek() == ']'
			if done {
				s.pos++
			}
			for !done && err == nil {
				if err = s.headerValue(&v, &n); err == nil {
					done, err = s.listNext(']')
				}
			}
		}
		if err != nil {
			return nil, 0, err
		}
		if empty, err = s.listNext('}'); err != nil {
			return nil, 0, err
		}
	}
	return v, n, nil
}

// headerValue reads one header value, a string or null, and counts it.
func (s *scanner) headerValue(v *[]byte, n *int) error {
	hv, ok, err := s.stringOrNull()
	if err != nil {
		return errFieldType
	}
	if ok {
		*v, *n = hv, *n+1
	}
	return nil
}
