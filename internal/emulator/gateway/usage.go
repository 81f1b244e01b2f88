package gateway

import (
	"sync"
	"sync/atomic"
	"time"

	"tollgate/api"
	"tollgate/plans"
)

// API Gateway's messages for what a usage plan refuses
// (https://repost.aws/knowledge-center/api-gateway-429-limit: "Too Many
// Requests" when throttled, "Limit Exceeded" past the quota; a method
// that requires an API key answers a missing or unknown one 403
// "Forbidden", https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer).
const (
	msgThrottled     = "Too Many Requests"
	msgQuotaExceeded = "Limit Exceeded"
	msgForbidden     = "Forbidden"
)

// APIKey is an API Gateway API key on one of the stage's usage plans.
type APIKey struct {
	// ID is API Gateway's id of the key: the access log's
	// $context.identity.apiKeyId. Never the key's value.
	ID string
	// Client is the keyring's id of the client the key names.
	Client string
	// Plan is the plan the key is on, a name of Config.Plans.
	Plan string
}

// usage is the stage's usage plans at work: for each API key, its token
// buckets (the plan's, and one per route the plan throttles on its own)
// and its quota's count, as API Gateway keeps them per key
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html:
// usage plan limits "are applied to individual API keys").
type usage struct {
	plans plans.Set
	keys  atomic.Pointer[map[string]APIKey] // by key value

	mu      sync.Mutex
	buckets map[string]*bucket       // by key id, or key id + " " + route
	quotas  map[string]*quotaCount   // by key id
	daily   map[string]map[int64]int // requests let through, by key id, then UTC day (dayOf)
}

type quotaCount struct {
	start time.Time // the period the count is of
	used  int
	plan  string
}

func newUsage(set plans.Set) *usage {
	u := &usage{plans: set, buckets: map[string]*bucket{}, quotas: map[string]*quotaCount{}, daily: map[string]map[int64]int{}}
	u.keys.Store(&map[string]APIKey{})
	return u
}

// SetAPIKeys replaces the API keys on the stage's plans, by key value:
// the local run's keyring, read again at each change. A key that moved to
// another plan keeps the requests it made this period, as API Gateway
// counts usage per key.
func (g *Gateway) SetAPIKeys(keys map[string]APIKey) {
	if g.usage == nil {
		return
	}
	g.usage.keys.Store(&keys)
}

// limit applies the usage plan of the API key an authorizer returned
// (usageIdentifierKey) to a request it allowed, on a method that requires
// an API key: every guarded method, when the stage has plans. In API
// Gateway's order (the api-gateway-request-throttling page above): the
// key must be one of the plans', then its per-method throttle where its
// plan has one for the route, else the plan's, then the quota. Only a
// request let through is counted: throttled, over quota or refused
// before it is not. It answers the request itself and returns false
// when it may not go on.
func (g *Gateway) limit(x *exchange, value string, now time.Time) bool {
	u := g.usage
	key, ok := (*u.keys.Load())[value]
	plan, onPlan := u.plans.Plans[key.Plan]
	if value == "" || !ok || !onPlan {
		g.fail(x, api.InvalidAPIKey, 0, msgForbidden)
		return false
	}
	x.apiKeyID = key.ID
	u.mu.Lock()
	defer u.mu.Unlock()
	id, t := key.ID, plan.Throttle()
	if rt, own := plan.Routes[x.route.String()]; own {
		id, t = key.ID+" "+x.route.String(), &rt
	}
	if t != nil {
		b := u.buckets[id]
		if b == nil || b.limit != *t {
			b = newBucket(*t, now)
			u.buckets[id] = b
		}
		if !b.take(now) {
			g.fail(x, api.Throttled, 0, msgThrottled)
			return false
		}
	}
	if q := plan.Quota; q != nil {
		start, _ := q.Period.Window(now)
		c := u.quotas[key.ID]
		if c == nil || !c.start.Equal(start) || c.plan != key.Plan {
			c = &quotaCount{start: start, plan: key.Plan}
			u.quotas[key.ID] = c
		}
		if c.used >= q.Limit {
			g.fail(x, api.QuotaExceeded, 0, msgQuotaExceeded)
			return false
		}
		c.used++
	}
	if u.daily[key.ID] == nil {
		u.daily[key.ID] = map[int64]int{}
	}
	u.daily[key.ID][dayOf(now)]++
	return true
}

// KeyUsage is one API key's requests as GetUsage reports them: for each
// UTC day of the range, the requests counted and what was left of the
// quota at the end of that day (-1 without a quota).
type KeyUsage struct {
	Client string
	Plan   string
	Days   []DayUsage
}

// DayUsage is one day of KeyUsage.
type DayUsage struct {
	Day       string // 2006-01-02
	Used      int
	Remaining int
}

// Usage is the requests each API key of plan made on each UTC day from
// start to end, both included, by key id: GetUsage's answer
// (https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsage.html).
func (g *Gateway) Usage(plan string, start, end time.Time) map[string]KeyUsage {
	out := map[string]KeyUsage{}
	if g.usage == nil {
		return out
	}
	u := g.usage
	p := u.plans.Plans[plan]
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, k := range *u.keys.Load() {
		if k.Plan != plan {
			continue
		}
		ku := KeyUsage{Client: k.Client, Plan: plan}
		for d := start.UTC().Truncate(24 * time.Hour); !d.After(end); d = d.AddDate(0, 0, 1) {
			day := DayUsage{Day: d.Format(time.DateOnly), Used: u.daily[k.ID][dayOf(d)], Remaining: -1}
			if q := p.Quota; q != nil {
				// What the period holding d has used, up to d's end.
				from, _ := q.Period.Window(d)
				used := 0
				for e := from; !e.After(d); e = e.AddDate(0, 0, 1) {
					used += u.daily[k.ID][dayOf(e)]
				}
				day.Remaining = max(q.Limit-used, 0)
			}
			ku.Days = append(ku.Days, day)
		}
		out[k.ID] = ku
	}
	return out
}

// dayOf is t's UTC day, as days since 1970-01-01: a request's count is
// kept by it without formatting a date on the request path.
func dayOf(t time.Time) int64 {
	d := t.Unix() / 86400
	if t.Unix() < 0 && t.Unix()%86400 != 0 {
		d-- // floor for instants before 1970
	}
	return d
}
