package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tollgate/authorizer"
)

// emitted is a metric something emits: its namespace, name and one set of
// dimensions it is emitted with (sorted, joined by ",").
type emitted struct{ namespace, name, dims string }

// awsMetrics are the metrics AWS emits that tollgate's dashboard and
// alarms may name, as the pages cited list them.
func awsMetrics() map[emitted]string {
	out := map[emitted]string{}
	add := func(source, namespace string, names []string, dimSets ...string) {
		for _, n := range names {
			for _, d := range dimSets {
				out[emitted{namespace, n, d}] = source
			}
		}
	}
	add("https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html (REST APIs)",
		"AWS/ApiGateway", []string{"4XXError", "5XXError", "CacheHitCount", "CacheMissCount", "Count", "IntegrationLatency", "Latency"},
		"ApiName", "ApiName,Stage", "ApiName,Method,Resource,Stage")
	add("https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html (HTTP APIs)",
		"AWS/ApiGateway", []string{"4xx", "5xx", "Count", "DataProcessed", "IntegrationLatency", "Latency"},
		"ApiId", "ApiId,Stage", "ApiId,Method,Resource,Stage")
	add("https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
		"AWS/Lambda", []string{"Invocations", "Errors", "DeadLetterErrors", "Throttles", "Duration", "ConcurrentExecutions", "UnreservedConcurrentExecutions"},
		"FunctionName", "FunctionName,Resource", "FunctionName,ExecutedVersion")
	return out
}

// planBlock is one resource of a golden plan: type, name and inputs.
type planBlock struct {
	typ, name string
	inputs    map[string]any
}

func readPlan(t *testing.T, file string) []planBlock {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []planBlock
	for _, block := range strings.Split(string(b), "\n\n") {
		header, _, _ := strings.Cut(block, "\n")
		typ, name, ok := strings.Cut(header, " ")
		i := strings.Index(block, "\n  inputs: ")
		if !ok || strings.HasPrefix(header, "#") || i < 0 {
			continue
		}
		p := planBlock{typ: typ, name: name}
		if err := json.Unmarshal([]byte(block[i+len("\n  inputs: "):]), &p.inputs); err != nil {
			t.Fatalf("%s: %v", header, err)
		}
		out = append(out, p)
	}
	return out
}

// namedMetric is a metric a dashboard or an alarm names, with its
// dimensions' values.
type namedMetric struct {
	where           string
	namespace, name string
	dims            map[string]string
}

var searchExpr = regexp.MustCompile(`SEARCH\('\{([^}]*)\}([^']*)'`)
var searchTerm = regexp.MustCompile(`(\w+)="([^"]*)"`)

// metricsNamed are the metrics the plan's dashboards and alarms name: a
// dashboard's metric rows and SEARCH expressions, an alarm's metric or
// its queries' metrics.
func metricsNamed(t *testing.T, plan []planBlock) []namedMetric {
	t.Helper()
	var out []namedMetric
	for _, p := range plan {
		switch p.typ {
		case "aws:cloudwatch/dashboard:Dashboard":
			body, _ := p.inputs["dashboardBody"].(map[string]any)
			widgets, _ := body["widgets"].([]any)
			for _, w := range widgets {
				props, _ := w.(map[string]any)["properties"].(map[string]any)
				rows, _ := props["metrics"].([]any)
				for _, r := range rows {
					out = append(out, dashboardRow(t, p.name+" "+fmt.Sprint(props["title"]), r.([]any))...)
				}
			}
		case "aws:cloudwatch/metricAlarm:MetricAlarm":
			if n, ok := p.inputs["metricName"].(string); ok {
				out = append(out, namedMetric{p.name, fmt.Sprint(p.inputs["namespace"]), n, strMap(p.inputs["dimensions"])})
			}
			queries, _ := p.inputs["metricQueries"].([]any)
			for _, q := range queries {
				if m, ok := q.(map[string]any)["metric"].(map[string]any); ok {
					out = append(out, namedMetric{p.name, fmt.Sprint(m["namespace"]), fmt.Sprint(m["metricName"]), strMap(m["dimensions"])})
				}
			}
		}
	}
	return out
}

func strMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, e := range m {
		out[k] = fmt.Sprint(e)
	}
	return out
}

// dashboardRow is the metric of a dashboard row: [namespace, name,
// dimension, value, …, {options}], or a SEARCH of a schema
// {namespace,dimension,…} for MetricName="…" (its dimensions' values
// those the search names, the others "*").
func dashboardRow(t *testing.T, where string, row []any) []namedMetric {
	if opts, ok := row[len(row)-1].(map[string]any); ok {
		row = row[:len(row)-1]
		if e, ok := opts["expression"].(string); ok && len(row) == 0 {
			m := searchExpr.FindStringSubmatch(e)
			if m == nil {
				t.Errorf("%s: expression %q is no SEARCH of a schema", where, e)
				return nil
			}
			schema := strings.Split(m[1], ",")
			nm := namedMetric{where: where, namespace: schema[0], dims: map[string]string{}}
			for _, d := range schema[1:] {
				nm.dims[d] = "*"
			}
			for _, term := range searchTerm.FindAllStringSubmatch(m[2], -1) {
				if term[1] == "MetricName" {
					nm.name = term[2]
				} else {
					nm.dims[term[1]] = term[2]
				}
			}
			return []namedMetric{nm}
		}
	}
	nm := namedMetric{where: where, namespace: fmt.Sprint(row[0]), name: fmt.Sprint(row[1]), dims: map[string]string{}}
	for i := 2; i+1 < len(row); i += 2 {
		nm.dims[fmt.Sprint(row[i])] = fmt.Sprint(row[i+1])
	}
	return []namedMetric{nm}
}

// checkEmitted reports each named metric nothing emits: not the
// authorizer (authorizer.Metrics), not the plan's metric filters, not AWS
// for the plan's own API, stage and functions.
func checkEmitted(plan []planBlock, named []namedMetric) []string {
	known := awsMetrics()
	for _, m := range authorizer.Metrics {
		for _, d := range m.Dimensions {
			known[emitted{authorizer.MetricNamespace, m.Name, strings.Join(slices.Sorted(slices.Values(d)), ",")}] = "authorizer.Metrics"
		}
	}
	values := map[string][]string{} // dimension -> the plan's values
	for _, p := range plan {
		switch p.typ {
		case "aws:cloudwatch/logMetricFilter:LogMetricFilter":
			mt, _ := p.inputs["metricTransformation"].(map[string]any)
			known[emitted{fmt.Sprint(mt["namespace"]), fmt.Sprint(mt["name"]), ""}] = p.name
		case "aws:lambda/function:Function":
			values["FunctionName"] = append(values["FunctionName"], fmt.Sprint(p.inputs["name"]))
		case "aws:apigateway/restApi:RestApi":
			values["ApiName"] = append(values["ApiName"], fmt.Sprint(p.inputs["name"]))
		case "aws:apigatewayv2/api:Api":
			values["ApiId"] = append(values["ApiId"], "h6t7t8p9a0") // the mocks' HTTP API id
		case "aws:apigateway/stage:Stage":
			values["Stage"] = append(values["Stage"], fmt.Sprint(p.inputs["stageName"]))
		case "aws:apigatewayv2/stage:Stage":
			values["Stage"] = append(values["Stage"], fmt.Sprint(p.inputs["name"]))
		}
	}
	values["function"] = values["FunctionName"] // the authorizer's dimension: its function's name
	values["outcome"] = []string{"allow", "deny", "unauthorized", "error"}
	var problems []string
	for _, m := range named {
		keys := make([]string, 0, len(m.dims))
		for k := range m.dims {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e := emitted{m.namespace, m.name, strings.Join(keys, ",")}
		if _, ok := known[e]; !ok {
			problems = append(problems, fmt.Sprintf("%s: %s %s by [%s] is emitted by nothing", m.where, m.namespace, m.name, e.dims))
			continue
		}
		for k, v := range m.dims {
			if want, ok := values[k]; ok && v != "*" && !slices.Contains(want, v) {
				problems = append(problems, fmt.Sprintf("%s: %s %s=%q names nothing of this stack (%v)", m.where, m.name, k, v, want))
			}
		}
	}
	return problems
}

// Every metric the dashboard and the alarms name, in both golden plans,
// is one the authorizer, the plan's metric filters or API Gateway and
// Lambda emit, with dimensions they emit it by, for this stack's API,
// stage and functions.
func TestDashboardAndAlarmsNameEmittedMetrics(t *testing.T) {
	for _, g := range goldenPlans {
		plan := readPlan(t, g.file)
		named := metricsNamed(t, plan)
		if len(named) < 20 {
			t.Fatalf("%s: %d metrics named by the dashboard and alarms; the plan has lost them", g.file, len(named))
		}
		for _, p := range checkEmitted(plan, named) {
			t.Errorf("%s: %s", g.file, p)
		}
	}
}

// The check itself refuses what nothing emits: a misspelled name, a REST
// metric by an HTTP API's dimension, a dimension too many, an authorizer
// metric by another function.
func TestEmittedCheckRefuses(t *testing.T) {
	plan := readPlan(t, goldenPlans[0].file)
	for _, bad := range []namedMetric{
		{"misspelled", "AWS/ApiGateway", "5xxError", map[string]string{"ApiName": "tollgate-dev", "Stage": "dev"}},
		{"HTTP name", "AWS/ApiGateway", "5xx", map[string]string{"ApiName": "tollgate-dev", "Stage": "dev"}},
		{"extra dimension", "tollgate", authorizer.MetricColdStarts, map[string]string{"function": "tollgate-dev-authorizer", "outcome": "allow"}},
		{"other function", "tollgate", authorizer.MetricColdStarts, map[string]string{"function": "someone-else"}},
		{"other stage", "AWS/ApiGateway", "Count", map[string]string{"ApiName": "tollgate-dev", "Stage": "prod"}},
	} {
		if p := checkEmitted(plan, []namedMetric{bad}); len(p) == 0 {
			t.Errorf("%s: accepted", bad.where)
		}
	}
}
