package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/authorizer"
)

// The dashboard's body, in CloudWatch's dashboard body structure
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
// widgets on a grid 24 units wide, each metric widget with its Region and
// its metrics as arrays [namespace, name, dimension, value, …, options].

// widget is one widget of a dashboard.
type widget struct {
	Type       string         `json:"type"`
	X          int            `json:"x"`
	Y          int            `json:"y"`
	Width      int            `json:"width"`
	Height     int            `json:"height"`
	Properties map[string]any `json:"properties"`
}

// series is one line of a metric widget: a metric with its statistic, or
// an expression (a SEARCH).
type series struct {
	metric     metric
	stat       string
	label      string
	expression string
}

// row is the series as the widget's metrics array holds it.
func (s series) row(apiID string) []any {
	opts := map[string]any{"label": s.label}
	if s.expression != "" {
		opts["expression"] = s.expression
		opts["id"] = "e1" // one expression per widget
		return []any{opts}
	}
	out := []any{s.metric.Namespace, s.metric.Name}
	for _, kv := range s.metric.Dims {
		v := kv[1]
		if v == apiIDValue {
			v = apiID
		}
		out = append(out, kv[0], v)
	}
	opts["stat"] = s.stat
	return append(out, opts)
}

// panel is a metric widget's title and series.
type panel struct {
	title  string
	series []series
}

// dashboardPanels are the dashboard's metric widgets, in reading order:
// the stage, the authorizer's decisions, the authorizer's function, the
// keyring, and the integrations' functions.
func (d *deployer) dashboardPanels() []panel {
	fn := d.authorizerFunction()
	ac := func(name, stat, label string, dims ...[2]string) series {
		return series{metric: d.authorizerMetric(name, dims...), stat: stat, label: label}
	}
	api := func(rest, http, stat, label string) series {
		return series{metric: d.apiMetric(rest, http), stat: stat, label: label}
	}
	lambda := func(f, name, stat, label string) series {
		return series{metric: lambdaMetric(f, name), stat: stat, label: label}
	}
	access := func(name, label string) series {
		return series{metric: metric{AccessLogNamespace(d.name), name, nil}, stat: "Sum", label: label}
	}
	var decisions []series
	for _, o := range []string{"allow", "deny", "unauthorized", "error"} {
		decisions = append(decisions, ac(authorizer.MetricDecisions, "Sum", o, [2]string{"outcome", o}))
	}
	panels := []panel{
		{"Requests", []series{api("Count", "Count", "Sum", "requests"), api("4XXError", "4xx", "Sum", "4xx"), api("5XXError", "5xx", "Sum", "5xx")}},
		{"Latency (ms)", []series{
			api("Latency", "Latency", "p50", "p50"), api("Latency", "Latency", "p99", "p99"),
			api("IntegrationLatency", "IntegrationLatency", "p50", "integration p50"), api("IntegrationLatency", "IntegrationLatency", "p99", "integration p99"),
		}},
		{"Throttled and over quota", []series{access(MetricThrottled, "throttled (429)"), access(MetricQuotaExceeded, "quota exceeded (429)")}},
		{"Authorizer decisions", decisions},
		{"Refusals by reason", []series{{label: "refusals", expression: fmt.Sprintf(`SEARCH('{%s,function,reason} MetricName="%s" function="%s"', 'Sum', 300)`,
			authorizer.MetricNamespace, authorizer.MetricDecisions, fn)}}},
		{"Authorizer function", []series{
			lambda(fn, "Invocations", "Sum", "invocations"), lambda(fn, "Errors", "Sum", "errors (a REST API's 401s among them)"), lambda(fn, "Throttles", "Sum", "throttles"),
			ac(authorizer.MetricColdStarts, "Sum", "cold starts"),
		}},
		{"Authorizer duration (ms)", []series{lambda(fn, "Duration", "p50", "p50"), lambda(fn, "Duration", "p99", "p99")}},
		{"Keyring", []series{
			ac(authorizer.MetricKeyringAge, "Maximum", "age (s)"), ac(authorizer.MetricKeyRefreshes, "Sum", "refreshes"),
			ac(authorizer.MetricKeyRefreshFailures, "Sum", "refresh failures"), ac(authorizer.MetricKeyringInvalid, "Sum", "invalid"),
			ac(authorizer.MetricJWKSRefreshFailures, "Sum", "JWKS refresh failures"),
		}},
	}
	var fns []series
	for _, name := range d.functionNames() {
		if name == d.def().Authorizer.Function {
			continue
		}
		f := FunctionName(d.name, name)
		fns = append(fns, lambda(f, "Errors", "Sum", name+" errors"), lambda(f, "Duration", "p99", name+" p99 (ms)"))
	}
	return append(panels, panel{"Functions", fns})
}

// dashboardBody is the dashboard's JSON for the API's Region and id and
// the alarms' ARNs.
func (d *deployer) dashboardBody(region, apiID string, alarms []string) (string, error) {
	const w, h = 8, 6
	widgets := []widget{{Type: "text", Width: 24, Height: 2, Properties: map[string]any{
		"markdown": fmt.Sprintf("# tollgate %s\nThe stage %s, its authorizer and its functions. What each alarm means and what to do: tollgate's README, *Running it*. Who calls: the Contributor Insights rules %s-top-principals and %s-top-refused-ips; last use per client: the saved query tollgate/%s/%s.",
			d.name, d.def().Stage, d.name, d.name, d.name, QueryLastUse),
	}}}
	panels := d.dashboardPanels()
	for i, p := range panels {
		var rows [][]any
		for _, s := range p.series {
			rows = append(rows, s.row(apiID))
		}
		widgets = append(widgets, widget{Type: "metric", X: (i % 3) * w, Y: 2 + (i/3)*h, Width: w, Height: h, Properties: map[string]any{
			"title": p.title, "region": region, "view": "timeSeries", "stacked": false, "period": 60, "metrics": rows,
		}})
	}
	n := len(panels)
	widgets = append(widgets, widget{Type: "alarm", X: (n % 3) * w, Y: 2 + (n/3)*h, Width: w, Height: h, Properties: map[string]any{
		"title": "Alarms", "alarms": slices.Sorted(slices.Values(alarms)),
	}})
	b, err := json.Marshal(map[string]any{"widgets": widgets})
	return string(b), err
}

// regionOf is the Region of an ARN: arn:PARTITION:SERVICE:REGION:….
func regionOf(arn string) string {
	if parts := strings.SplitN(arn, ":", 5); len(parts) == 5 {
		return parts[3]
	}
	return ""
}

// dashboard creates the stack's dashboard, named as the stack's
// component: a dashboard's name is its identity, and PutDashboard
// replaces one of the same name (tf internal/service/cloudwatch/dashboard.go:
// dashboard_name ForceNew, validDashboardName ^[0-9A-Za-z_-]+$, at most
// 255; create and update are both PutDashboard).
func (d *deployer) dashboard(alarms []*cloudwatch.MetricAlarm) error {
	inputs := []any{d.executionARN, d.apiID}
	for _, a := range alarms {
		inputs = append(inputs, a.Arn)
	}
	body := pulumi.All(inputs...).ApplyT(func(vs []any) (string, error) {
		var arns []string
		for _, v := range vs[2:] {
			arns = append(arns, v.(string))
		}
		return d.dashboardBody(regionOf(vs[0].(string)), string(vs[1].(pulumi.ID)), arns)
	}).(pulumi.StringOutput)
	db, err := cloudwatch.NewDashboard(d.ctx, d.child("dashboard"), &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(d.name),
		DashboardBody: body,
	}, d.parent)
	if err != nil {
		return err
	}
	d.api.Dashboard = pulumi.All(d.executionARN, db.DashboardName).ApplyT(func(vs []any) string {
		region := regionOf(vs[0].(string))
		return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s", region, region, vs[1].(string))
	}).(pulumi.StringOutput)
	return nil
}
