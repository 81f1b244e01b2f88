package local

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"

	"tollgate/plans"
)

// usageAPI serves, on the control endpoint, the API Gateway calls that
// read the usage plans back, as `tollkeys usage` makes them against AWS:
//
//   - GetUsagePlans, GET /usageplans
//     (https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsagePlans.html):
//     the stack's plans, each on the served stage, id = name;
//   - GetUsagePlanKeys, GET /usageplans/{id}/keys
//     (https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsagePlanKeys.html):
//     each client's API key on the plan, named by the client, without its
//     value;
//   - GetUsage, GET /usageplans/{id}/usage?startDate&endDate
//     (https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsage.html):
//     each key's [used, remaining] per UTC day, by key id; remaining is
//     -1 on a plan without a quota.
//
// Lists fit one page: no position is returned.
func (m *Main) usageAPI(mux *http.ServeMux) {
	set := func() plans.Set {
		if m.cfg.Stack == nil {
			return plans.Set{}
		}
		return m.cfg.Stack.Plans
	}
	mux.HandleFunc("GET /usageplans", func(w http.ResponseWriter, r *http.Request) {
		s := m.cur.Load()
		items := []map[string]any{}
		for _, name := range set().Names() {
			p := set().Plans[name]
			item := map[string]any{
				"id": name, "name": name,
				"apiStages": []map[string]any{{"apiId": s.gw.APIID(), "stage": s.def.Stage}},
			}
			if t := p.Throttle(); t != nil {
				item["throttle"] = map[string]any{"rateLimit": t.RateLimit, "burstLimit": t.BurstLimit}
			}
			if q := p.Quota; q != nil {
				item["quota"] = map[string]any{"limit": q.Limit, "period": q.Period, "offset": 0}
			}
			items = append(items, item)
		}
		writeJSON(w, map[string]any{"item": items})
	})
	plan := func(w http.ResponseWriter, r *http.Request) (string, bool) {
		id := r.PathValue("plan")
		if _, ok := set().Plans[id]; !ok {
			awsError(w, http.StatusNotFound, "NotFoundException", "Invalid Usage Plan ID specified")
			return "", false
		}
		return id, true
	}
	mux.HandleFunc("GET /usageplans/{plan}/keys", func(w http.ResponseWriter, r *http.Request) {
		id, ok := plan(w, r)
		if !ok {
			return
		}
		usage := m.Gateway().Usage(id, time.Now(), time.Now())
		items := []map[string]any{}
		for _, keyID := range slices.Sorted(maps.Keys(usage)) {
			items = append(items, map[string]any{"id": keyID, "name": usage[keyID].Client, "type": "API_KEY"})
		}
		writeJSON(w, map[string]any{"item": items})
	})
	mux.HandleFunc("GET /usageplans/{plan}/usage", func(w http.ResponseWriter, r *http.Request) {
		id, ok := plan(w, r)
		if !ok {
			return
		}
		q := r.URL.Query()
		start, err1 := time.Parse(time.DateOnly, q.Get("startDate"))
		end, err2 := time.Parse(time.DateOnly, q.Get("endDate"))
		if err1 != nil || err2 != nil || end.Before(start) {
			awsError(w, http.StatusBadRequest, "BadRequestException", "Invalid start date or end date: want yyyy-MM-dd, the end not before the start")
			return
		}
		values := map[string][][2]int{}
		for keyID, ku := range m.Gateway().Usage(id, start, end) {
			if k := q.Get("keyId"); k != "" && k != keyID {
				continue
			}
			for _, d := range ku.Days {
				values[keyID] = append(values[keyID], [2]int{d.Used, d.Remaining})
			}
		}
		writeJSON(w, map[string]any{"usagePlanId": id, "startDate": q.Get("startDate"), "endDate": q.Get("endDate"), "values": values})
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
