package plans

import (
	"errors"
	"strings"
	"testing"
	"time"

	"tollgate/api"
)

func def() *api.Definition {
	d := api.Default()
	return &d
}

// Every rule Validate holds, each with a planted violation and the
// message that names it; none quotes a value it was not given as a name.
func TestValidate(t *testing.T) {
	ok := Plan{RateLimit: 5, BurstLimit: 10, Quota: &Quota{Limit: 100, Period: Day}}
	clients := []string{"default", "reports"}
	cases := []struct {
		name string
		set  Set
		want string // "" for valid
	}{
		{"none", Set{}, ""},
		{"a default plan", Set{Plans: map[string]Plan{"free": ok}, Default: "free"}, ""},
		{"every client listed", Set{Plans: map[string]Plan{"a": {Clients: []string{"default"}}, "b": {Clients: []string{"reports"}}}}, ""},
		{"a route throttle", Set{Plans: map[string]Plan{"free": {Routes: map[string]api.Throttle{"GET /customers": {RateLimit: 1, BurstLimit: 1}}}}, Default: "free"}, ""},
		{"default without plans", Set{Default: "free"}, `defaultPlan "free": no plans are declared`},
		{"unknown default", Set{Plans: map[string]Plan{"free": ok}, Default: "gold"}, `defaultPlan "gold": no plan of that name; the plans are [free]`},
		{"bad name", Set{Plans: map[string]Plan{"free tier": ok}, Default: "free tier"}, `plan name "free tier"`},
		{"rate without burst", Set{Plans: map[string]Plan{"free": {RateLimit: 5}}, Default: "free"}, "plan free: throttle 5 requests/s, burst 0: want both above 0"},
		{"past the account's rate", Set{Plans: map[string]Plan{"free": {RateLimit: 10001, BurstLimit: 1}}, Default: "free"}, "account limits are 10000 and 5000"},
		{"quota without a period", Set{Plans: map[string]Plan{"free": {Quota: &Quota{Limit: 100}}}, Default: "free"}, "plan free: a quota of 100 without a period"},
		{"quota period YEAR", Set{Plans: map[string]Plan{"free": {Quota: &Quota{Limit: 100, Period: "YEAR"}}}, Default: "free"}, `quota period "YEAR"`},
		{"quota of 0", Set{Plans: map[string]Plan{"free": {Quota: &Quota{Period: Day}}}, Default: "free"}, "quota limit 0"},
		{"route not in the API", Set{Plans: map[string]Plan{"free": {Routes: map[string]api.Throttle{"GET /nope": {RateLimit: 1, BurstLimit: 1}}}}, Default: "free"}, `route "GET /nope" is not a route of the API`},
		{"route not guarded", Set{Plans: map[string]Plan{"free": {Routes: map[string]api.Throttle{"GET /health": {RateLimit: 1, BurstLimit: 1}}}}, Default: "free"}, `route "GET /health" is not guarded`},
		{"route throttle of 0", Set{Plans: map[string]Plan{"free": {Routes: map[string]api.Throttle{"GET /hello": {}}}}, Default: "free"}, "route GET /hello: throttle 0 requests/s"},
		{"unknown client", Set{Plans: map[string]Plan{"free": {Clients: []string{"web"}}}, Default: "free"}, `plan free lists client "web", which is not among the clients`},
		{"client on two plans", Set{Plans: map[string]Plan{"a": {Clients: []string{"reports"}}, "b": {Clients: []string{"reports"}}}, Default: "a"}, `client "reports" is on two plans, a and b`},
		{"client twice on a plan", Set{Plans: map[string]Plan{"a": {Clients: []string{"reports", "reports"}}}, Default: "a"}, `plan a lists client "reports" twice`},
		{"client on no plan", Set{Plans: map[string]Plan{"a": {Clients: []string{"reports"}}}}, `client "default" is on no plan`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.set.Validate(clients, def())
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrInvalid)):
				t.Errorf("error %v, want one wrapping ErrInvalid with %q", err, c.want)
			}
		})
	}
	http := def()
	http.UseHTTP()
	if err := (Set{Plans: map[string]Plan{"free": ok}, Default: "free"}).Validate(clients, http); err == nil || !strings.Contains(err.Error(), "HTTP APIs have no usage plans") {
		t.Errorf("plans on an HTTP API: %v", err)
	}
}

func TestParsePlans(t *testing.T) {
	for _, c := range []struct {
		in, want string
		n        int
	}{
		{"{}", "", 0},
		{"", "", 0},
		{`{"free":{"rateLimit":5,"burstLimit":10,"quota":{"limit":100,"period":"DAY"},"routes":{"GET /x":{"rateLimit":1,"burstLimit":1}},"clients":["a"]}}`, "", 1},
		{`{"free":{"rateLimt":5}}`, `unknown field "rateLimt"`, 0},
		{`{"free":{"quota":{"limit":1,"perod":"DAY"}}}`, `unknown field "perod"`, 0},
		{`["free"]`, "not an object of plans", 0},
		{`{"free":{"rateLimit":"fast"}}`, "not an object of plans", 0},
	} {
		got, err := ParsePlans(c.in)
		switch {
		case c.want == "" && (err != nil || len(got) != c.n):
			t.Errorf("ParsePlans(%s) = %v, %v; want %d plans", c.in, got, err, c.n)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("ParsePlans(%s) error %v, want %q", c.in, err, c.want)
		}
	}
}

// FuzzParsePlans: whatever the setting holds, ParsePlans returns plans or
// an error wrapping ErrInvalid, and Validate then decides without
// panicking.
func FuzzParsePlans(f *testing.F) {
	f.Add(`{"free":{"rateLimit":5,"burstLimit":10,"quota":{"limit":100,"period":"DAY"},"clients":["default"]}}`)
	f.Add(`{"p":{"routes":{"GET /hello":{"rateLimit":1,"burstLimit":1}}}}`)
	f.Add(`{"x":{"quota":{"limit":-1,"period":"WEEK"}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePlans(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		_ = Set{Plans: p, Default: "free"}.Validate([]string{"default"}, def())
	})
}

func TestOf(t *testing.T) {
	s := Set{Plans: map[string]Plan{"free": {}, "partner": {Clients: []string{"reports"}}}, Default: "free"}
	if s.Of("reports") != "partner" || s.Of("anyone") != "free" || (Set{}).Of("x") != "" {
		t.Errorf("Of: %q %q", s.Of("reports"), s.Of("anyone"))
	}
}

// A quota's period: a DAY is a UTC day, a WEEK starts on Monday, a MONTH
// on the first, all at 00:00 UTC, whatever the time zone t is given in.
func TestWindow(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	for _, c := range []struct {
		p          Period
		at         time.Time
		start, end string
	}{
		{Day, time.Date(2026, 12, 6, 23, 59, 59, 999e6, time.UTC), "2026-12-06", "2026-12-07"},
		{Day, time.Date(2026, 12, 7, 8, 0, 0, 0, tokyo), "2026-12-06", "2026-12-07"},      // 23:00 UTC the day before
		{Week, time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), "2026-11-30", "2026-12-07"}, // a Sunday
		{Week, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), "2026-12-07", "2026-12-14"},  // a Monday
		{Month, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), "2026-12-01", "2027-01-01"},
		{Month, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC), "2028-02-01", "2028-03-01"},
	} {
		s, e := c.p.Window(c.at)
		if s.Format(time.DateOnly) != c.start || e.Format(time.DateOnly) != c.end || s.Location() != time.UTC || !s.Before(c.at) && !s.Equal(c.at) || !c.at.Before(e) {
			t.Errorf("%s.Window(%s) = %s..%s, want %s..%s", c.p, c.at, s, e, c.start, c.end)
		}
	}
}
