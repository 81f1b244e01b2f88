package pulumimock

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
)

// The rules of the monitoring resources (deploy/monitoring.go): SNS,
// CloudWatch alarms and dashboards, Contributor Insights, and CloudWatch
// Logs metric filters and saved queries.

const (
	srcDashboard    = "tf internal/service/cloudwatch/dashboard.go"
	srcDashboardDoc = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"
	srcAlarm        = "tf internal/service/cloudwatch/metric_alarm.go"
	srcQueryID      = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html: Id, \"The first character must be a lower-case letter\""
	srcInsightRule  = "tf internal/service/cloudwatch/contributor_insight_rule.go"
	srcPutInsight   = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutInsightRule.html"
	srcMetricFilter = "tf internal/service/logs/metric_filter.go"
	srcLogsValidate = "tf internal/service/logs/validate.go"
	srcQueryDef     = "tf internal/service/logs/query_definition.go"
	srcTopicSub     = "tf internal/service/sns/topic_subscription.go"
)

// WholeRule is a check the provider makes of several inputs together
// (a ConflictsWith, an ExactlyOneOf, a CustomizeDiff).
type WholeRule struct {
	Name   string
	Check  func(inputs map[string]any) error
	Source string
}

func init() {
	for typ, rules := range monitoringRules {
		Provider[typ] = rules
	}
}

var monitoringRules = map[string]TypeRules{
	"aws:sns/topic:Topic": {
		Replace: []string{"name"}, ReplaceSource: "tf internal/service/sns/topic.go: name ForceNew", Identity: []string{"name"},
		Autoname: &Autoname{Prop: "name", Max: 256},
		Rules: []Rule{
			{Prop: "name", Check: match(`^[0-9A-Za-z_-]+$`, 1, 256), Source: "sdk sns/topic.go name: letters, digits, _ and -, 1 to 256 characters (a standard topic); pulumi-aws provider/resources.go aws_sns_topic AutoName(\"name\", 256)"},
		}},
	"aws:sns/topicSubscription:TopicSubscription": {
		Replace: []string{"endpoint", "protocol", "topic"}, ReplaceSource: srcTopicSub + ": endpoint, protocol and topic_arn ForceNew",
		Rules: []Rule{
			{Prop: "topic", Required: true, Check: validARN, Source: srcTopicSub + ": topic_arn Required, ValidARN"},
			{Prop: "protocol", Required: true, Check: oneOf("application", "email", "email-json", "firehose", "http", "https", "lambda", "sms", "sqs"), Source: srcTopicSub + ": protocol Required, StringInSlice(subscriptionProtocol_Values())"},
			{Prop: "endpoint", Required: true, Check: match(`.`, 1, 1<<20), Source: srcTopicSub + ": endpoint Required"},
		}},
	"aws:cloudwatch/dashboard:Dashboard": {
		Replace: []string{"dashboardName"}, ReplaceSource: srcDashboard + ": dashboard_name ForceNew", Identity: []string{"dashboardName"},
		Rules: []Rule{
			{Prop: "dashboardName", Required: true, Check: match(`^[0-9A-Za-z_-]+$`, 1, 255), Source: "tf internal/service/cloudwatch/validate.go validDashboardName: ^[0-9A-Za-z_-]+$, at most 255"},
			{Prop: "dashboardBody", Required: true, Check: dashboardBody, Source: srcDashboard + ": dashboard_body Required, StringIsJSON; " + srcDashboardDoc},
		}},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {
		Replace: []string{"name"}, ReplaceSource: srcAlarm + ": alarm_name ForceNew", Identity: []string{"name"},
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Check: match(`.`, 1, 255), Source: srcAlarm + ": alarm_name StringLenBetween(1, 255); " + srcAutonameDefault},
			{Prop: "alarmDescription", Check: maxLen(1024), Source: srcAlarm + ": alarm_description StringLenBetween(0, 1024)"},
			{Prop: "comparisonOperator", Required: true, Check: oneOf("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold",
				"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"), Source: srcAlarm + ": comparison_operator Required, enum.Validate[types.ComparisonOperator]"},
			{Prop: "evaluationPeriods", Required: true, Check: wholeAtLeast(1), Source: srcAlarm + ": evaluation_periods Required, IntAtLeast(1)"},
			{Prop: "datapointsToAlarm", Check: wholeAtLeast(1), Source: srcAlarm + ": datapoints_to_alarm IntAtLeast(1)"},
			{Prop: "period", Check: alarmPeriod(10, 20, 30), Source: srcAlarm + ": period 10, 20, 30 or IntDivisibleBy(60)"},
			{Prop: "statistic", Check: oneOf("SampleCount", "Average", "Sum", "Minimum", "Maximum"), Source: srcAlarm + ": statistic enum.Validate[types.Statistic]"},
			{Prop: "treatMissingData", Check: oneOf("missing", "ignore", "breaching", "notBreaching"), Source: srcAlarm + ": treat_missing_data StringInSlice(missingData_Values())"},
			{Prop: "alarmActions", Check: arnList(0), Source: srcAlarm + ": alarm_actions, each ValidARN"},
			{Prop: "okActions", Check: arnList(5), Source: srcAlarm + ": ok_actions MaxItems 5, each ValidARN"},
			{Prop: "metricQueries", Check: metricQueries, Source: srcAlarm + ": metric_query id Required 1 to 255, expression 1 to 1024, metric.metric_name Required, metric.period 1, 5, 10, 20, 30 or a multiple of 60, metric.stat Required, no query with both expression and metric; " + srcQueryID},
		},
		Whole: []WholeRule{
			{Name: "metric", Check: alarmMetric, Source: srcAlarm + ": metric_name ConflictsWith metric_query; CustomizeDiff \"One of `statistic` or `extended_statistic` must be set\""},
			{Name: "threshold", Check: alarmThreshold, Source: srcAlarm + ": threshold ConflictsWith threshold_metric_id; https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html ThresholdMetricId, the ID of the ANOMALY_DETECTION_BAND function, in place of Threshold"},
		},
	},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": {
		Replace: []string{"name", "logGroupName"}, ReplaceSource: srcMetricFilter + ": name and log_group_name ForceNew", Identity: []string{"name", "logGroupName"},
		Rules: []Rule{
			{Prop: "name", Required: true, Check: match(`^[^:*]+$`, 1, 512), Source: srcLogsValidate + " validLogMetricFilterName: ^[^:*]+$, at most 512"},
			{Prop: "logGroupName", Required: true, Check: match(`^[0-9A-Za-z_./#-]+$`, 1, 512), Source: srcMetricFilter + ": log_group_name Required, validLogGroupName"},
			{Prop: "pattern", Required: true, Check: maxLen(1024), Source: srcMetricFilter + ": pattern Required, StringUTF8LenBetween(0, 1024)"},
			{Prop: "metricTransformation.name", Required: true, Check: match(`^[^:*$]*$`, 1, 255), Source: srcLogsValidate + " validLogMetricFilterTransformationName"},
			{Prop: "metricTransformation.namespace", Required: true, Check: match(`^[^:*$]*$`, 1, 255), Source: srcLogsValidate + " validLogMetricFilterTransformationName"},
			{Prop: "metricTransformation.value", Required: true, Check: maxLen(100), Source: srcMetricFilter + ": metric_transformation.value Required, StringLenBetween(0, 100)"},
		}},
	"aws:cloudwatch/contributorInsightRule:ContributorInsightRule": {
		NoOpUpdate: []string{"ruleDefinition", "ruleName", "ruleState"}, NoOpUpdateSource: srcInsightRule + ": framework.WithNoOpUpdate, Create is PutInsightRule and there is no Update",
		Identity: []string{"ruleName"},
		Rules: []Rule{
			{Prop: "ruleName", Required: true, Check: match(`^[\x20-\x7E]+$`, 1, 128), Source: srcInsightRule + ": rule_name Required; " + srcPutInsight + ": RuleName 1 to 128, [\\x20-\\x7E]+"},
			{Prop: "ruleDefinition", Required: true, Check: insightRuleDefinition, Source: srcInsightRule + ": rule_definition Required; " + srcPutInsight + ": RuleDefinition 1 to 8192; https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContributorInsights-RuleSyntax.html"},
			{Prop: "ruleState", Check: oneOf("ENABLED", "DISABLED"), Source: srcPutInsight + ": RuleState ENABLED or DISABLED"},
		}},
	"aws:cloudwatch/queryDefinition:QueryDefinition": {
		Autoname: &Autoname{Prop: "name", Max: 255},
		Rules: []Rule{
			{Prop: "name", Check: match(`^([^:*\/]+\/?)*[^:*\/]+$`, 1, 255), Source: srcQueryDef + ": name StringLenBetween(1, 255), ^([^:*\\/]+\\/?)*[^:*\\/]+$; " + srcAutonameDefault},
			{Prop: "queryString", Required: true, Check: match(`.`, 1, 10000), Source: srcQueryDef + ": query_string Required; https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutQueryDefinition.html QueryString 1 to 10000"},
			{Prop: "logGroupNames", Check: logGroupNames, Source: srcQueryDef + ": log_group_names, each validLogGroupName"},
		}},
}

func wholeAtLeast(lo float64) func(any) error {
	return func(v any) error {
		n, err := num(v)
		if err != nil {
			return err
		}
		if n != math.Trunc(n) || n < lo {
			return fmt.Errorf("%v: want a whole number of at least %v", n, lo)
		}
		return nil
	}
}

// alarmPeriod accepts the listed periods and multiples of 60.
func alarmPeriod(listed ...float64) func(any) error {
	return func(v any) error {
		n, err := num(v)
		if err != nil {
			return err
		}
		if slices.Contains(listed, n) || (n > 0 && n == math.Trunc(n) && int(n)%60 == 0) {
			return nil
		}
		return fmt.Errorf("%v seconds: want one of %v or a multiple of 60", n, listed)
	}
}

func arnList(maxItems int) func(any) error {
	return func(v any) error {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%v is not a list", v)
		}
		if maxItems > 0 && len(list) > maxItems {
			return fmt.Errorf("%d items, want at most %d", len(list), maxItems)
		}
		for _, e := range list {
			if err := validARN(e); err != nil {
				return err
			}
		}
		return nil
	}
}

var extendedStat = regexp.MustCompile(`^((p|(tm)|(wm)|(tc)|(ts))((\d{1,2}(\.\d{1,2})?)|(100))|(IQM)|(((TM)|(WM)|(PR)|(TC)|(TS)))\((\d+(\.\d+)?%?)?:(\d+(\.\d+)?%?)?\))$`)

var queryID = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)

func metricQueries(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%v is not a list", v)
	}
	for _, e := range list {
		q, _ := e.(map[string]any)
		id, _ := q["id"].(string)
		if len(id) < 1 || len(id) > 255 || !queryID.MatchString(id) {
			return fmt.Errorf("query id %q: want 1 to 255 characters, a lower-case letter first", id)
		}
		expr, hasExpr := q["expression"].(string)
		m, hasMetric := q["metric"].(map[string]any)
		switch {
		case hasExpr && hasMetric:
			return fmt.Errorf("query %s has both an expression and a metric", id)
		case !hasExpr && !hasMetric:
			return fmt.Errorf("query %s has neither an expression nor a metric", id)
		case hasExpr && (len(expr) < 1 || len(expr) > 1024):
			return fmt.Errorf("query %s: expression of %d characters, want 1 to 1024", id, len(expr))
		case hasMetric:
			if name, _ := m["metricName"].(string); len(name) < 1 || len(name) > 255 {
				return fmt.Errorf("query %s: metric name %q, want 1 to 255 characters", id, name)
			}
			if err := alarmPeriod(1, 5, 10, 20, 30)(m["period"]); err != nil {
				return fmt.Errorf("query %s: period %w", id, err)
			}
			stat, _ := m["stat"].(string)
			if !slices.Contains([]string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}, stat) && !extendedStat.MatchString(stat) {
				return fmt.Errorf("query %s: stat %q is no statistic", id, stat)
			}
		}
	}
	return nil
}

func alarmMetric(in map[string]any) error {
	_, name := in["metricName"]
	queries, _ := in["metricQueries"].([]any)
	_, stat := in["statistic"]
	_, ext := in["extendedStatistic"]
	switch {
	case name && len(queries) > 0:
		return errors.New("metricName and metricQueries together")
	case !name && len(queries) == 0:
		return errors.New("neither metricName nor metricQueries: the alarm watches nothing")
	case name && stat == ext:
		return errors.New("one of statistic or extendedStatistic must be set")
	}
	return nil
}

func alarmThreshold(in map[string]any) error {
	_, t := in["threshold"]
	id, tid := in["thresholdMetricId"].(string)
	switch {
	case t && tid:
		return errors.New("threshold and thresholdMetricId together")
	case !t && !tid:
		return errors.New("neither threshold nor thresholdMetricId")
	case tid:
		queries, _ := in["metricQueries"].([]any)
		for _, e := range queries {
			if q, _ := e.(map[string]any); q["id"] == id {
				return nil
			}
		}
		return fmt.Errorf("thresholdMetricId %q names no query", id)
	}
	return nil
}

func logGroupNames(v any) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%v is not a list", v)
	}
	for _, e := range list {
		if err := match(`^[0-9A-Za-z_./#-]+$`, 1, 512)(e); err != nil {
			return err
		}
	}
	return nil
}

// insightRuleDefinition is a Contributor Insights rule for a log group:
// its schema, log groups, JSON format, 1 to 4 keys, at most 4 filters, and
// Count or Sum.
func insightRuleDefinition(v any) error {
	s, err := str(v)
	if err != nil {
		return err
	}
	if len(s) < 1 || len(s) > 8192 {
		return fmt.Errorf("%d characters, want 1 to 8192", len(s))
	}
	var r struct {
		Schema struct {
			Name    string
			Version int
		}
		LogGroupNames []string
		LogFormat     string
		Contribution  struct {
			Keys    []string
			Filters []map[string]any
		}
		AggregateOn string
	}
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return fmt.Errorf("not a rule: %v", err)
	}
	switch {
	case r.Schema.Name != "CloudWatchLogRule" || r.Schema.Version != 1:
		return fmt.Errorf("schema %s %d, want CloudWatchLogRule 1", r.Schema.Name, r.Schema.Version)
	case len(r.LogGroupNames) == 0:
		return errors.New("no LogGroupNames")
	case r.LogFormat != "JSON" && r.LogFormat != "CLF":
		return fmt.Errorf("LogFormat %q, want JSON or CLF", r.LogFormat)
	case len(r.Contribution.Keys) < 1 || len(r.Contribution.Keys) > 4:
		return fmt.Errorf("%d keys, want 1 to 4", len(r.Contribution.Keys))
	case len(r.Contribution.Filters) > 4:
		return fmt.Errorf("%d filters, want at most 4", len(r.Contribution.Filters))
	case r.AggregateOn != "Count" && r.AggregateOn != "Sum":
		return fmt.Errorf("AggregateOn %q, want Count or Sum", r.AggregateOn)
	}
	return nil
}

// dashboardBody is a dashboard's body as PutDashboard takes it: widgets
// on a grid 24 wide; a metric widget with its Region and its metrics,
// each [namespace, name, (dimension, value)…, {options}] or
// [{"expression": …}]; an alarm widget with alarm ARNs; a text widget
// with markdown.
func dashboardBody(v any) error {
	s, err := str(v)
	if err != nil {
		return err
	}
	var body struct {
		Widgets []struct {
			Type                string
			X, Y, Width, Height *int
			Properties          map[string]any
		}
	}
	if err := json.Unmarshal([]byte(s), &body); err != nil {
		return fmt.Errorf("not a dashboard body: %v", err)
	}
	if len(body.Widgets) == 0 {
		return errors.New("no widgets")
	}
	for i, w := range body.Widgets {
		if w.Width != nil && (*w.Width < 1 || *w.Width > 24) || w.X != nil && (*w.X < 0 || *w.X > 23) || w.Height != nil && (*w.Height < 1 || *w.Height > 1000) {
			return fmt.Errorf("widget %d: off the grid (width 1 to 24, x 0 to 23, height 1 to 1000)", i)
		}
		p := w.Properties
		switch w.Type {
		case "metric":
			if r, _ := p["region"].(string); r == "" {
				return fmt.Errorf("widget %d: a metric widget without its region", i)
			}
			rows, _ := p["metrics"].([]any)
			if len(rows) == 0 {
				return fmt.Errorf("widget %d: a metric widget without metrics", i)
			}
			for _, row := range rows {
				if err := metricRow(row); err != nil {
					return fmt.Errorf("widget %d: %w", i, err)
				}
			}
		case "alarm":
			if err := arnList(100)(p["alarms"]); err != nil {
				return fmt.Errorf("widget %d: alarms: %w", i, err)
			}
		case "text":
			if md, _ := p["markdown"].(string); md == "" {
				return fmt.Errorf("widget %d: a text widget without markdown", i)
			}
		default:
			return fmt.Errorf("widget %d: type %q is not one tollgate's rules know (metric, alarm, text)", i, w.Type)
		}
	}
	return nil
}

func metricRow(v any) error {
	row, _ := v.([]any)
	if len(row) == 0 {
		return fmt.Errorf("metric %v: not an array", v)
	}
	if opts, ok := row[len(row)-1].(map[string]any); ok {
		row = row[:len(row)-1]
		if len(row) == 0 {
			if e, _ := opts["expression"].(string); e == "" {
				return errors.New("a metric of options alone, without an expression")
			}
			return nil
		}
	}
	if len(row) < 2 || len(row)%2 != 0 {
		return fmt.Errorf("metric %v: want namespace, name, then dimension and value pairs", v)
	}
	for _, e := range row {
		if s, ok := e.(string); !ok || s == "" {
			return fmt.Errorf("metric %v: %v is not a name", v, e)
		}
	}
	return nil
}
