package plans

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"tollgate/api"
)

// ErrInvalid is wrapped by every error ParsePlans and Set.Validate return.
var ErrInvalid = errors.New("invalid plans")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Period is a quota's period, as API Gateway names it
// (https://docs.aws.amazon.com/apigateway/latest/api/API_QuotaSettings.html).
type Period string

const (
	Day   Period = "DAY"
	Week  Period = "WEEK"
	Month Period = "MONTH"
)

// Quota is how many requests a client may make per period.
type Quota struct {
	Limit  int    `json:"limit"`
	Period Period `json:"period"`
}

// Plan is one usage plan: a throttle and a quota for each client on it,
// and throttles of its own for some routes.
type Plan struct {
	// RateLimit and BurstLimit are each client's token bucket; both 0
	// leave only the stage's limits.
	RateLimit  float64 `json:"rateLimit,omitempty"`
	BurstLimit int     `json:"burstLimit,omitempty"`
	// Quota, when set, caps each client's requests per period.
	Quota *Quota `json:"quota,omitempty"`
	// Routes are each client's throttles on some routes ("GET
	// /orders/{id}", as api.Route.String names them), in place of the
	// plan's on those routes.
	Routes map[string]api.Throttle `json:"routes,omitempty"`
	// Clients are the clients on the plan.
	Clients []string `json:"clients,omitempty"`
}

// Throttle is the plan's throttle, nil when it sets none.
func (p Plan) Throttle() *api.Throttle {
	if p.RateLimit == 0 && p.BurstLimit == 0 {
		return nil
	}
	return &api.Throttle{RateLimit: p.RateLimit, BurstLimit: p.BurstLimit}
}

// Set is every plan of a stack, by name, and the plan of clients no plan
// lists.
type Set struct {
	Plans   map[string]Plan
	Default string
}

// Empty reports whether s declares no plan.
func (s Set) Empty() bool { return len(s.Plans) == 0 }

// Names are the plans' names, sorted.
func (s Set) Names() []string { return slices.Sorted(maps.Keys(s.Plans)) }

// Of is the plan client is on: the plan that lists it, else the default;
// "" for none.
func (s Set) Of(client string) string {
	for _, name := range s.Names() {
		if slices.Contains(s.Plans[name].Clients, client) {
			return name
		}
	}
	return s.Default
}

// ParsePlans reads the plans setting: a JSON object of plans by name.
// Unknown fields are refused, so that a misspelt limit is not silently
// no limit. An empty object is no plans.
func ParsePlans(plansJSON string) (map[string]Plan, error) {
	t := strings.TrimSpace(plansJSON)
	if t == "" || t == "{}" || t == "null" {
		return nil, nil
	}
	var out map[string]Plan
	dec := json.NewDecoder(bytes.NewReader([]byte(t)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, invalid("not an object of plans by name, each {rateLimit, burstLimit, quota: {limit, period}, routes, clients} (%v)", err)
	}
	return out, nil
}

var planName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate reports the first thing API Gateway would refuse, or that
// would not limit what it says: plans for an API without usage plans
// (an HTTP API), a name no plan has, a client that is not one or is on
// two plans, a client on none, a quota without a period, and a route
// throttle on a route the API does not have or does not protect.
func (s Set) Validate(clients []string, def *api.Definition) error {
	if s.Empty() {
		if s.Default != "" {
			return invalid("defaultPlan %q: no plans are declared", s.Default)
		}
		return nil
	}
	if def.IsHTTP() {
		return invalid("HTTP APIs have no usage plans or API keys of API Gateway's (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html); deploy a REST API (apiType rest), or limit every caller with route throttles")
	}
	routes := map[string]api.Route{}
	for _, r := range def.Routes {
		routes[r.String()] = r
	}
	on := map[string]string{}
	for _, name := range s.Names() {
		p := s.Plans[name]
		if !planName.MatchString(name) {
			return invalid("plan name %q: want 1 to 64 letters, digits, - and _", name)
		}
		if err := checkThrottle("plan "+name, p.RateLimit, p.BurstLimit, true); err != nil {
			return err
		}
		if q := p.Quota; q != nil {
			switch {
			case q.Period == "":
				return invalid("plan %s: a quota of %d without a period: add period DAY, WEEK or MONTH", name, q.Limit)
			case q.Period != Day && q.Period != Week && q.Period != Month:
				return invalid("plan %s: quota period %q: want DAY, WEEK or MONTH", name, q.Period)
			case q.Limit < 1:
				return invalid("plan %s: quota limit %d: want 1 or more (leave the quota out for none)", name, q.Limit)
			}
		}
		for _, key := range slices.Sorted(maps.Keys(p.Routes)) {
			r, ok := routes[key]
			switch {
			case !ok:
				return invalid("plan %s: route %q is not a route of the API; its routes are %v", name, key, slices.Sorted(maps.Keys(routes)))
			case !r.Protected || r.JWT:
				return invalid("plan %s: route %q is not guarded by the Lambda authorizer, so no client's key is known on it and a plan cannot limit it", name, key)
			}
			t := p.Routes[key]
			if err := checkThrottle("plan "+name+" route "+key, t.RateLimit, t.BurstLimit, false); err != nil {
				return err
			}
		}
		for _, c := range p.Clients {
			if !slices.Contains(clients, c) {
				return invalid("plan %s lists client %q, which is not among the clients %q", name, c, clients)
			}
			if other, dup := on[c]; dup {
				// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html:
				// "a given API key can only be associated with one usage
				// plan for each stage".
				if other == name {
					return invalid("plan %s lists client %q twice", name, c)
				}
				return invalid("client %q is on two plans, %s and %s: API Gateway puts a key on one plan per stage", c, other, name)
			}
			on[c] = name
		}
	}
	if s.Default != "" {
		if _, ok := s.Plans[s.Default]; !ok {
			return invalid("defaultPlan %q: no plan of that name; the plans are %v", s.Default, s.Names())
		}
	}
	for _, c := range clients {
		if s.Of(c) == "" {
			return invalid("client %q is on no plan, and with plans every client needs one (its key is required on every guarded route): list it in a plan's clients, or set defaultPlan", c)
		}
	}
	return nil
}

// checkThrottle checks a rate and a burst as api.Throttle.Check does; or,
// when optional, both 0.
func checkThrottle(what string, rate float64, burst int, optional bool) error {
	if optional && rate == 0 && burst == 0 {
		return nil
	}
	if err := (api.Throttle{RateLimit: rate, BurstLimit: burst}).Check(); err != nil {
		return invalid("%s: %v", what, err)
	}
	return nil
}

// Window is the quota period holding t: its start and its end, when the
// quota resets. A DAY is a UTC day, 00:00 to 00:00 (the answer to
// https://stackoverflow.com/questions/54136076: "It is one day UTC"; the
// usage API Gateway reports is by UTC day,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-usage-plan-manage-usage.html).
// AWS does not state where a WEEK or a MONTH starts: here a WEEK starts
// on Monday (ISO 8601) and a MONTH on the first, both at 00:00 UTC.
func (p Period) Window(t time.Time) (start, end time.Time) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch p {
	case Week:
		start = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return start, start.AddDate(0, 0, 7)
	case Month:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
	return day, day.AddDate(0, 0, 1)
}
