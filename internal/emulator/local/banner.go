package local

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"tollgate/api"
	"tollgate/internal/launch"
	"tollgate/plans"
)

// Routes prints what the user can call: one curl line per route.
func (m *Main) Routes(w io.Writer) {
	def := m.Definition()
	d := &def
	ttl := "off"
	if d.Authorizer.ResultTTL > 0 {
		ttl = d.Authorizer.ResultTTL.String()
	}
	if m.keyHint != "" && slices.ContainsFunc(d.Routes, func(r api.Route) bool { return r.Protected }) {
		fmt.Fprintln(w, m.keyHint)
	}
	if m.jwt != nil {
		fmt.Fprintf(w, "JWTs from the issuer %q are accepted beside keys", m.jwt.Issuer)
		if m.mintCmd != "" {
			fmt.Fprintf(w, " (JWKS at %s%s). Mint one for a test subject, valid an hour:\n\n    export TOLLGATE_JWT=$(%s)\n", m.ControlURL, jwksPath, m.mintCmd)
			fmt.Fprintf(w, "\nand send it where a key goes: -H \"%s: Bearer $TOLLGATE_JWT\".\n\n", d.Authorizer.TokenHeader())
		} else {
			fmt.Fprint(w, ".\n\n")
		}
	}
	if d.IsHTTP() {
		fmt.Fprintf(w, "tollgate is serving stage %q of an HTTP API on %s (REQUEST authorizer with simple responses, result cache %s). Try:\n\n", d.Stage, m.URL, ttl)
	} else {
		fmt.Fprintf(w, "tollgate is serving stage %q on %s (%s authorizer, result cache %s). Try:\n\n", d.Stage, m.URL, d.Authorizer.Type, ttl)
	}
	for _, r := range d.Routes {
		fmt.Fprintf(w, "    %s\n", m.curl(*d, r))
	}
	httpFlag := ""
	if d.IsHTTP() {
		httpFlag = " -http"
	}
	fmt.Fprintf(w, "\nTo end removed keys at once (flush the result cache, restart the authorizer):\n\n    %s refresh -endpoint %s -credentials %s -api-id %s -stage %s -function %s%s\n",
		launch.GoRun(m.cfg.ModuleDir, "tollkeys"), m.ControlURL, m.controlFile, m.Gateway().APIID(), d.Stage, d.Authorizer.Function, httpFlag)
	if st := m.cfg.Stack; st != nil && !st.Plans.Empty() {
		fmt.Fprintf(w, "\nClients are limited by stack %s's plans:\n\n", st.Name)
		for _, name := range st.Plans.Names() {
			fmt.Fprintf(w, "    %s\n", planLine(name, st.Plans))
		}
		fmt.Fprintf(w, "\nTheir usage, per client and day:\n\n    %s usage -local -credentials %s\n", launch.GoRun(m.cfg.ModuleDir, "tollkeys"), m.controlFile)
	}
	fmt.Fprintln(w, "\nCtrl-C stops it.")
}

// planLine describes plan name of set in a line.
func planLine(name string, set plans.Set) string {
	p := set.Plans[name]
	var parts []string
	if t := p.Throttle(); t != nil {
		parts = append(parts, fmt.Sprintf("%v/s, burst %d", t.RateLimit, t.BurstLimit))
	}
	if q := p.Quota; q != nil {
		parts = append(parts, fmt.Sprintf("%d a %s", q.Limit, strings.ToLower(string(q.Period))))
	}
	for _, r := range slices.Sorted(maps.Keys(p.Routes)) {
		parts = append(parts, fmt.Sprintf("%s %v/s, burst %d", r, p.Routes[r].RateLimit, p.Routes[r].BurstLimit))
	}
	if len(parts) == 0 {
		parts = append(parts, "no limits of its own")
	}
	clients := slices.Clone(p.Clients)
	if set.Default == name {
		clients = append(clients, "every other client")
	}
	return fmt.Sprintf("%s: %s; %s", name, strings.Join(parts, ", "), strings.Join(clients, ", "))
}

// curl is a curl line that calls route r of def.
func (m *Main) curl(def api.Definition, r api.Route) string {
	var b strings.Builder
	b.WriteString("curl -i")
	method := r.Method
	if method == "ANY" {
		method = "GET"
	}
	if method != "GET" {
		b.WriteString(" -X " + method)
	}
	switch {
	case r.Protected:
		b.WriteString(` -H "` + def.Authorizer.TokenHeader() + `: Bearer $TOLLGATE_KEY"`)
	case r.JWT:
		b.WriteString(` -H "` + def.Authorizer.TokenHeader() + `: Bearer $TOLLGATE_JWT"`)
	}
	if method == "POST" || method == "PUT" || method == "PATCH" {
		b.WriteString(` -H "Content-Type: application/json" -d '{}'`)
	}
	path := r.Path
	for {
		i := strings.IndexByte(path, '{')
		j := strings.IndexByte(path, '}')
		if i < 0 || j < i {
			break
		}
		path = path[:i] + strings.TrimSuffix(path[i+1:j], "+") + path[j+1:]
	}
	b.WriteString(" " + m.URL + path)
	return b.String()
}
