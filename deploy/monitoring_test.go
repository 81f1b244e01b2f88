package deploy

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"tollgate/api"
	"tollgate/internal/lastuse"
	"tollgate/internal/testkit/pulumimock"
)

const (
	typeTopic     = "aws:sns/topic:Topic"
	typeSub       = "aws:sns/topicSubscription:TopicSubscription"
	typeDashboard = "aws:cloudwatch/dashboard:Dashboard"
	typeAlarm     = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeFilter    = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
	typeRule      = "aws:cloudwatch/contributorInsightRule:ContributorInsightRule"
	typeQuery     = "aws:cloudwatch/queryDefinition:QueryDefinition"
)

var monitoringTypes = []string{typeTopic, typeSub, typeDashboard, typeAlarm, typeFilter, typeRule, typeQuery}

// Issue 31: both API types get the dashboard, five alarms sent to the
// stack's topic when they fire and when they recover, the two access log
// filters, the two Contributor Insights rules and the two saved queries;
// the dashboard names the stack's own API.
func TestMonitoring(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    Args
		apiDims string
	}{
		{"rest", testArgs(t), `"ApiName","tollgate-dev","Stage","dev"`},
		{"http", httpArgs(t), `"ApiId","` + testHTTPAPIID + `","Stage","dev"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, a := mustRun(t, tc.args)
			topic := m.One(t, typeTopic)
			if len(m.Of(typeSub)) != 0 {
				t.Error("an email subscription without alarmEmail")
			}
			alarms := m.Of(typeAlarm)
			var names []string
			for _, al := range alarms {
				names = append(names, al.Str("name"))
				for _, k := range []string{"alarmActions", "okActions"} {
					if acts, _ := al.Inputs[k].([]any); len(acts) != 1 || acts[0] != topic.ID {
						t.Errorf("%s %s = %v, want the topic %s", al.Name, k, al.Inputs[k], topic.ID)
					}
				}
				if al.Str("treatMissingData") != "notBreaching" || !strings.Contains(al.Str("alarmDescription"), "Running it") {
					t.Errorf("%s: missing data %q, description %q", al.Name, al.Str("treatMissingData"), al.Str("alarmDescription"))
				}
			}
			want := []string{"tollgate-dev-5xx-rate", "tollgate-dev-authorizer-errors", "tollgate-dev-keyring-invalid", "tollgate-dev-keyring-stale", "tollgate-dev-refusals-rise"}
			if slices.Sort(names); !slices.Equal(names, want) {
				t.Errorf("alarms %v, want %v", names, want)
			}
			if n := [3]int{len(m.Of(typeFilter)), len(m.Of(typeRule)), len(m.Of(typeQuery))}; n != [3]int{2, 2, 2} {
				t.Errorf("filters, rules, queries = %v, want 2 each", n)
			}
			db := m.One(t, typeDashboard)
			body := db.Str("dashboardBody")
			if db.Str("dashboardName") != "tollgate-dev" || !strings.Contains(body, tc.apiDims) || !strings.Contains(body, `"region":"`+testRegion+`"`) {
				t.Errorf("dashboard %s: %s", db.Str("dashboardName"), body)
			}
			for _, al := range alarms {
				if !strings.Contains(body, "alarm:"+al.Str("name")) {
					t.Errorf("the dashboard's alarm widget leaves out %s", al.Str("name"))
				}
			}
			if url := await[string](t, a.Dashboard.ToStringOutput()); url != "https://"+testRegion+".console.aws.amazon.com/cloudwatch/home?region="+testRegion+"#dashboards:name=tollgate-dev" {
				t.Errorf("dashboard output %q", url)
			}
		})
	}
}

// The 5xx alarm is a rate of the stage's own metrics: REST 5XXError and
// Count by ApiName, HTTP 5xx and Count by ApiId.
func TestFivexxAlarmPerAPIType(t *testing.T) {
	for _, tc := range []struct {
		args       Args
		fivexx, by string
	}{{testArgs(t), "5XXError", "ApiName"}, {httpArgs(t), "5xx", "ApiId"}} {
		m, _ := mustRun(t, tc.args)
		al := m.Named(t, typeAlarm, "tollgate-dev-alarm-5xx-rate")
		b, _ := json.Marshal(al.Inputs["metricQueries"])
		if s := string(b); !strings.Contains(s, `"metricName":"`+tc.fivexx+`"`) || !strings.Contains(s, `"`+tc.by+`":`) || !strings.Contains(s, "100 * fivexx / requests") {
			t.Errorf("%s: %s", tc.fivexx, s)
		}
	}
}

// The keyring-stale alarm follows the authorizer's key TTL as deployed.
func TestKeyringStaleFollowsTheTTL(t *testing.T) {
	args := testArgs(t)
	f := args.Definition.Functions["authorizer"]
	f.Env = map[string]string{"TOLLGATE_KEY_TTL": "2m"}
	args.Definition.Functions["authorizer"] = f
	m, _ := mustRun(t, args)
	if th := m.Named(t, typeAlarm, "tollgate-dev-alarm-keyring-stale").Inputs["threshold"]; th != 240.0 {
		t.Errorf("threshold %v, want 240 s (twice the TTL)", th)
	}
}

// The Contributor Insights rules read the access log by its own keys, and
// are replaced (the old deleted first) when they change: the provider
// never updates one.
func TestContributorRules(t *testing.T) {
	m, _ := mustRun(t, testArgs(t))
	for name, want := range map[string]string{
		"tollgate-dev-top-principals":  `"Keys":["$.principalId"],"Filters":[{"Match":"$.principalId","NotIn":["-",""]}]`,
		"tollgate-dev-top-refused-ips": `"Keys":["$.ip"],"Filters":[{"Match":"$.status","In":["401","403","429"]}]`,
	} {
		r := m.Named(t, typeRule, name)
		if def := r.Str("ruleDefinition"); !strings.Contains(def, want) || !strings.Contains(def, `"LogGroupNames":["/aws/apigateway/tollgate-dev/dev/access"]`) {
			t.Errorf("%s: %s", name, def)
		}
		if !r.RPC.GetDeleteBeforeReplace() || !slices.Contains(r.RPC.GetReplaceOnChanges(), "ruleDefinition") {
			t.Errorf("%s: deleteBeforeReplace %v, replaceOnChanges %v", name, r.RPC.GetDeleteBeforeReplace(), r.RPC.GetReplaceOnChanges())
		}
	}
	q := m.Named(t, typeQuery, "tollgate-dev-last-use-per-client")
	if q.Str("name") != "tollgate/tollgate-dev/last use per client" || q.Str("queryString") != lastuse.Query("principalId") {
		t.Errorf("last use query %q: %q", q.Str("name"), q.Str("queryString"))
	}
}

// An email is subscribed to the stack's topic; a topic of your own takes
// the alarms instead of one the stack makes; monitoring off makes none of
// it.
func TestMonitoringSettings(t *testing.T) {
	args := testArgs(t)
	args.Monitoring.AlarmEmail = "ops@example.com"
	m, _ := mustRun(t, args)
	sub := m.One(t, typeSub)
	if sub.Str("protocol") != "email" || sub.Str("endpoint") != "ops@example.com" || sub.Str("topic") != m.One(t, typeTopic).ID {
		t.Errorf("subscription %v", sub.Inputs)
	}

	own := "arn:aws:sns:eu-west-1:123456789012:oncall"
	args = testArgs(t)
	args.Monitoring.AlarmTopicARN = own
	m, _ = mustRun(t, args)
	if len(m.Of(typeTopic)) != 0 {
		t.Error("a topic made beside the one named")
	}
	for _, al := range m.Of(typeAlarm) {
		if acts, _ := al.Inputs["alarmActions"].([]any); len(acts) != 1 || acts[0] != own {
			t.Errorf("%s sends to %v", al.Name, acts)
		}
	}

	args = testArgs(t)
	args.Monitoring.Off = true
	m, a := mustRun(t, args)
	for _, typ := range monitoringTypes {
		if n := len(m.Of(typ)); n != 0 {
			t.Errorf("monitoring off: %d of %s", n, typ)
		}
	}
	if url := await[string](t, a.Dashboard.ToStringOutput()); url != "" {
		t.Errorf("dashboard output %q with monitoring off", url)
	}
	env := m.Named(t, "aws:lambda/function:Function", "tollgate-dev-authorizer").Obj("environment")["variables"].(map[string]any)
	if env["TOLLGATE_METRICS"] != "off" {
		t.Errorf("monitoring off: the authorizer's environment %v, want its metrics off", env)
	}
}

// Monitoring settings AWS or the access log cannot serve stop the deploy
// before anything is created.
func TestBadMonitoringCreatesNothing(t *testing.T) {
	noPrincipal := func(a *Args) {
		a.Definition.AccessLog = slices.DeleteFunc(slices.Clone(a.Definition.AccessLog), func(f api.AccessLogField) bool { return f.Variable == varPrincipal })
	}
	for _, tc := range []struct {
		name   string
		change func(a *Args)
		want   string
	}{
		{"email and topic", func(a *Args) {
			a.Monitoring = Monitoring{AlarmEmail: "ops@example.com", AlarmTopicARN: "arn:aws:sns:eu-west-1:123456789012:t"}
		}, "together"},
		{"not an email", func(a *Args) { a.Monitoring.AlarmEmail = "ops at example.com" }, `alarmEmail "ops at example.com"`},
		{"not a topic", func(a *Args) { a.Monitoring.AlarmTopicARN = "arn:aws:sqs:eu-west-1:123456789012:q" }, "alarmTopicArn"},
		{"a fifo topic", func(a *Args) { a.Monitoring.AlarmTopicARN = "arn:aws:sns:eu-west-1:123456789012:t.fifo" }, "alarmTopicArn"},
		{"email with monitoring off", func(a *Args) { a.Monitoring = Monitoring{Off: true, AlarmEmail: "ops@example.com"} }, "monitoring off"},
		{"no principal in the access log", noPrincipal, "$context.authorizer.principalId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := testArgs(t)
			tc.change(&args)
			m, _, err := run(t, args)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a config error naming %s", err, tc.want)
			}
			if len(m.Resources) != 0 {
				t.Errorf("%d resources created", len(m.Resources))
			}
		})
	}
	// Without that field, monitoring off deploys.
	args := testArgs(t)
	noPrincipal(&args)
	args.Monitoring.Off = true
	mustRun(t, args)
}

// Changing the alarm email replaces its subscription and nothing else of
// the monitoring; the update has no conflict AWS would refuse.
func TestAlarmEmailUpdate(t *testing.T) {
	args := testArgs(t)
	args.Monitoring.AlarmEmail = "ops@example.com"
	before, _ := mustRun(t, args)
	args.Monitoring.AlarmEmail = "oncall@example.com"
	after, _ := mustRun(t, args)
	diff := pulumimock.Diff(before, after)
	if len(diff) != 1 || diff[typeSub+" tollgate-dev-alarm-email"] != pulumimock.Replace {
		t.Errorf("diff %v, want the subscription replaced", diff)
	}
	if c := pulumimock.Conflicts(before, after); len(c) != 0 {
		t.Errorf("conflicts: %v", c)
	}
}

// The authorizer-errors alarm counts the authorizer's own errors, never
// Lambda's Errors of the authorizer: a REST authorizer answers every 401
// with a function error, so an unknown key would page someone.
func TestAuthorizerErrorsAlarmIgnoresRefusals(t *testing.T) {
	m, _ := mustRun(t, testArgs(t))
	al := m.Named(t, typeAlarm, "tollgate-dev-alarm-authorizer-errors")
	b, _ := json.Marshal(al.Inputs["metricQueries"])
	if s := string(b); strings.Contains(s, "AWS/Lambda") || !strings.Contains(s, `"outcome":"error"`) {
		t.Errorf("authorizer-errors watches %s", s)
	}
}
