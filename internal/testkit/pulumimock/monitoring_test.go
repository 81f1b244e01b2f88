package pulumimock

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	goodTopic = "arn:aws:sns:eu-west-1:123456789012:alarms"
	goodRule  = `{"Schema":{"Name":"CloudWatchLogRule","Version":1},"LogGroupNames":["/aws/apigateway/x"],"LogFormat":"JSON","Contribution":{"Keys":["$.ip"],"Filters":[{"Match":"$.status","In":["401"]}]},"AggregateOn":"Count"}`
	goodBoard = `{"widgets":[{"type":"text","x":0,"y":0,"width":24,"height":2,"properties":{"markdown":"# t"}},` +
		`{"type":"metric","x":0,"y":2,"width":8,"height":6,"properties":{"region":"eu-west-1","metrics":[["AWS/Lambda","Errors","FunctionName","f",{"stat":"Sum"}],[{"expression":"SEARCH('{tollgate,function} f', 'Sum', 60)","id":"e1"}]]}},` +
		`{"type":"alarm","x":8,"y":2,"width":8,"height":6,"properties":{"alarms":["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"]}}]}`
)

func metricQuery(id string) map[string]any {
	return map[string]any{"id": id, "returnData": true, "metric": map[string]any{"metricName": "Errors", "namespace": "AWS/Lambda", "period": 60.0, "stat": "p99"}}
}

func init() {
	maps.Copy(good, map[string]map[string]any{
		"aws:sns/topic:Topic":                         {"name": strings.Repeat("t", 256)},
		"aws:sns/topicSubscription:TopicSubscription": {"topic": goodTopic, "protocol": "email", "endpoint": "ops@example.com"},
		"aws:cloudwatch/dashboard:Dashboard":          {"dashboardName": strings.Repeat("d", 255), "dashboardBody": goodBoard},
		"aws:cloudwatch/metricAlarm:MetricAlarm": {
			"name": strings.Repeat("a", 255), "alarmDescription": strings.Repeat("d", 1024), "comparisonOperator": "GreaterThanUpperThreshold",
			"evaluationPeriods": 1.0, "datapointsToAlarm": 1.0, "treatMissingData": "notBreaching",
			"alarmActions": []any{goodTopic}, "okActions": []any{goodTopic}, "thresholdMetricId": "band",
			"metricQueries": []any{metricQuery("m1"), map[string]any{"id": "band", "expression": "ANOMALY_DETECTION_BAND(m1, 3)", "returnData": true}},
		},
		"aws:cloudwatch/logMetricFilter:LogMetricFilter": {"name": "x-Throttled", "logGroupName": "/aws/apigateway/x", "pattern": `{ $.errorType = "THROTTLED" }`,
			"metricTransformation": map[string]any{"name": "Throttled", "namespace": "tollgate/x", "value": "1"}},
		"aws:cloudwatch/contributorInsightRule:ContributorInsightRule": {"ruleName": strings.Repeat("r", 128), "ruleDefinition": goodRule, "ruleState": "ENABLED"},
		"aws:cloudwatch/queryDefinition:QueryDefinition":               {"name": "tollgate/x/last use", "queryString": "fields @timestamp", "logGroupNames": []any{"/aws/apigateway/x"}},
	})
	maps.Copy(bad, map[string]map[string][]any{
		"aws:sns/topic:Topic":                         {"name": {"a.b", strings.Repeat("t", 257), ""}},
		"aws:sns/topicSubscription:TopicSubscription": {"topic": {"alarms"}, "protocol": {"mail", "EMAIL"}, "endpoint": {""}},
		"aws:cloudwatch/dashboard:Dashboard": {
			"dashboardName": {"a b", "tollgate/dev", strings.Repeat("d", 256)},
			"dashboardBody": {"{", `{"widgets":[]}`,
				`{"widgets":[{"type":"metric","width":25,"properties":{"region":"r","metrics":[["a","b"]]}}]}`,
				`{"widgets":[{"type":"metric","properties":{"metrics":[["a","b"]]}}]}`,
				`{"widgets":[{"type":"metric","properties":{"region":"r","metrics":[["a","b","dim"]]}}]}`,
				`{"widgets":[{"type":"metric","properties":{"region":"r","metrics":[[{"stat":"Sum"}]]}}]}`,
				`{"widgets":[{"type":"alarm","properties":{"alarms":["a"]}}]}`,
				`{"widgets":[{"type":"chart","properties":{}}]}`},
		},
		"aws:cloudwatch/metricAlarm:MetricAlarm": {
			"name": {"", strings.Repeat("a", 256)}, "alarmDescription": {strings.Repeat("d", 1025)}, "comparisonOperator": {">=", "GreaterThan"},
			"evaluationPeriods": {0.0, 1.5}, "datapointsToAlarm": {0.0}, "period": {15.0, 90.0}, "statistic": {"p99", "sum"},
			"treatMissingData": {"zero"}, "alarmActions": {[]any{"alarms"}}, "okActions": {[]any{goodTopic, goodTopic, goodTopic, goodTopic, goodTopic, goodTopic}},
			"metricQueries": {
				[]any{map[string]any{"id": "M1", "expression": "1"}},
				[]any{map[string]any{"id": "e", "expression": "1", "metric": metricQuery("m")["metric"]}},
				[]any{map[string]any{"id": "e"}},
				[]any{map[string]any{"id": "m", "metric": map[string]any{"metricName": "Errors", "period": 45.0, "stat": "Sum"}}},
				[]any{map[string]any{"id": "m", "metric": map[string]any{"metricName": "Errors", "period": 60.0, "stat": "median"}}},
				[]any{map[string]any{"id": "m", "metric": map[string]any{"metricName": "", "period": 60.0, "stat": "Sum"}}},
			},
		},
		"aws:cloudwatch/logMetricFilter:LogMetricFilter": {
			"name": {"a:b", "a*"}, "logGroupName": {"a b"}, "pattern": {strings.Repeat("p", 1025)},
			"metricTransformation.name": {"a$b", ""}, "metricTransformation.namespace": {"a:b"}, "metricTransformation.value": {strings.Repeat("v", 101)},
		},
		"aws:cloudwatch/contributorInsightRule:ContributorInsightRule": {
			"ruleName": {"", strings.Repeat("r", 129), "tab\there"},
			"ruleDefinition": {"{", strings.Replace(goodRule, "CloudWatchLogRule", "Rule", 1), strings.Replace(goodRule, `["/aws/apigateway/x"]`, `[]`, 1),
				strings.Replace(goodRule, `"JSON"`, `"TEXT"`, 1), strings.Replace(goodRule, `["$.ip"]`, `[]`, 1), strings.Replace(goodRule, `"Count"`, `"Max"`, 1)},
			"ruleState": {"ON"},
		},
		"aws:cloudwatch/queryDefinition:QueryDefinition": {
			"name": {"/x", "x/", "a:b", "a*", strings.Repeat("q", 256)}, "queryString": {""}, "logGroupNames": {[]any{"a b"}},
		},
	})
}

// badWhole are planted violations of each WholeRule, by type and rule:
// changes to the type's good inputs.
var badWhole = map[string]map[string][]func(map[string]any){
	"aws:cloudwatch/metricAlarm:MetricAlarm": {
		"metric": {
			func(in map[string]any) { in["metricName"] = "Errors" },                                  // with metricQueries
			func(in map[string]any) { delete(in, "metricQueries"); delete(in, "thresholdMetricId") }, // nothing watched
			func(in map[string]any) {
				delete(in, "metricQueries")
				delete(in, "thresholdMetricId")
				in["threshold"], in["metricName"] = 1.0, "Errors" // no statistic
			},
		},
		"threshold": {
			func(in map[string]any) { in["threshold"] = 1.0 },           // with thresholdMetricId
			func(in map[string]any) { delete(in, "thresholdMetricId") }, // neither
			func(in map[string]any) { in["thresholdMetricId"] = "m2" },  // no such query
		},
	},
}

// Every whole-resource rule refuses its planted violations and cites its
// source.
func TestWholeRulesFire(t *testing.T) {
	for _, typ := range slices.Sorted(maps.Keys(Provider)) {
		for _, w := range Provider[typ].Whole {
			plants := badWhole[typ][w.Name]
			if len(plants) == 0 {
				t.Errorf("%s %s: no planted violation tests this rule", typ, w.Name)
			}
			for i, plant := range plants {
				in := deepCopy(good[typ])
				plant(in)
				err := Provider[typ].Check(in)
				if err == nil || !strings.HasPrefix(err.Error(), w.Name+":") || !strings.Contains(err.Error(), w.Source) {
					t.Errorf("%s %s, violation %d: %v, want the rule to refuse it, citing its source", typ, w.Name, i, err)
				}
			}
		}
	}
}

// A Contributor Insights rule registered without replacing on its
// definition is refused: the provider would never apply a change to it.
func TestNoOpUpdateNeedsReplaceOnChanges(t *testing.T) {
	typ := "aws:cloudwatch/contributorInsightRule:ContributorInsightRule"
	for _, tc := range []struct {
		replace []string
		ok      bool
	}{
		{nil, false},
		{[]string{"ruleDefinition"}, false},
		{[]string{"ruleDefinition", "ruleName", "ruleState"}, true},
		{[]string{"*"}, true},
	} {
		m := &Mocks{}
		_, _, err := m.NewResource(pulumi.MockResourceArgs{
			TypeToken: typ, Name: "rule", Custom: true,
			Inputs:      resource.NewPropertyMapFromMap(good[typ]),
			RegisterRPC: &pulumirpc.RegisterResourceRequest{ReplaceOnChanges: tc.replace},
		})
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "WithNoOpUpdate")) {
			t.Errorf("replaceOnChanges %v: %v, want ok %v", tc.replace, err, tc.ok)
		}
	}
}
