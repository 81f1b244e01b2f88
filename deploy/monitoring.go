package deploy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/lastuse"
)

// Monitoring: what the stack sets up so that it can be run.
//
//   - Two metric filters on the access log count the answers API Gateway
//     throttled (THROTTLED) and those past a plan's quota
//     (QUOTA_EXCEEDED), in the namespace AccessLogNamespace(name).
//   - Alarms (alarms.go) for what needs a person, sent to an SNS topic the
//     stack makes (with an email subscribed, if named) or to one of yours.
//   - A dashboard (dashboard.go) of the stage, the authorizer and the
//     functions.
//   - Two Contributor Insights rules on the access log: the principals
//     that call most, and the source IPs refused most.
//   - Two saved Logs Insights queries: each client's last use, and the
//     refusals by reason.
//
// The authorizer's own metrics come from its log lines (authorizer.Metrics,
// CloudWatch's embedded metric format): nothing here makes them.

// Monitoring reads these access log variables; the access log must have
// them (Monitoring.validate).
const (
	varPrincipal = "$context.authorizer.principalId"
	varSourceIP  = "$context.identity.sourceIp"
	varStatus    = "$context.status"
	varErrorType = "$context.error.responseType"
)

var monitoredVariables = []string{varPrincipal, varSourceIP, varStatus, varErrorType}

// accessKey is the access log's key for a variable, "" when it logs none.
func accessKey(def *api.Definition, variable string) string {
	for _, f := range def.AccessLog {
		if f.Variable == variable {
			return f.Key
		}
	}
	return ""
}

// AccessLogNamespace is the CloudWatch namespace of the metrics the
// stack's access log filters count: one per stack, since the access log
// has no field that names its API.
func AccessLogNamespace(component string) string { return authorizer.MetricNamespace + "/" + component }

// The metrics the access log's filters count, by the error type API
// Gateway logs for the answer
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
const (
	MetricThrottled     = "Throttled"
	MetricQuotaExceeded = "QuotaExceeded"
)

var accessLogMetrics = []struct{ name, errorType string }{
	{MetricThrottled, "THROTTLED"},
	{MetricQuotaExceeded, "QUOTA_EXCEEDED"},
}

// emailAddress is a mail address as SNS takes it for the email protocol:
// something@domain, no space (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html:
// "For the email protocol, the endpoint is an email address").
var emailAddress = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// snsTopicARN is a standard topic's ARN: a name of 1 to 256 letters,
// digits, - and _ (sdk sns/topic.go name).
var snsTopicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)

// validate checks the monitoring settings and that the access log has what
// monitoring reads.
func (m Monitoring) validate(def *api.Definition) error {
	if m.AlarmEmail != "" && m.AlarmTopicARN != "" {
		return configErr("alarmEmail and alarmTopicArn together: the email would be subscribed to a topic the stack does not own; subscribe it to your topic yourself, and keep alarmTopicArn")
	}
	if m.AlarmEmail != "" && (len(m.AlarmEmail) > 320 || !emailAddress.MatchString(m.AlarmEmail)) {
		return configErr("alarmEmail %q: want one address like ops@example.com", m.AlarmEmail)
	}
	if m.AlarmTopicARN != "" && !snsTopicARN.MatchString(m.AlarmTopicARN) {
		return configErr("alarmTopicArn %q: want a standard SNS topic's ARN, arn:aws:sns:REGION:ACCOUNT:NAME", m.AlarmTopicARN)
	}
	if m.Off {
		if m.AlarmEmail != "" || m.AlarmTopicARN != "" {
			return configErr("alarmEmail or alarmTopicArn with monitoring off: there are no alarms to send; turn monitoring on or remove them")
		}
		return nil
	}
	for _, v := range monitoredVariables {
		if accessKey(def, v) == "" {
			return configErr("monitoring reads the access log's %s, which the Definition's AccessLog leaves out: add it (api.DefaultAccessLog has it), or turn monitoring off (Monitoring.Off; the monitoring setting false)", v)
		}
	}
	return nil
}

// monitoring creates the monitoring resources, unless it is off.
func (d *deployer) monitoring() error {
	if d.args.Monitoring.Off {
		return nil
	}
	topic, err := d.alarmTopic()
	if err != nil {
		return err
	}
	if err := d.accessLogFilters(); err != nil {
		return err
	}
	alarms, err := d.alarms(topic)
	if err != nil {
		return err
	}
	if err := d.contributorRules(); err != nil {
		return err
	}
	if err := d.savedQueries(); err != nil {
		return err
	}
	return d.dashboard(alarms)
}

// alarmTopic is the topic the alarms are sent to: the one named, or one
// the stack makes, with the email subscribed. An email subscription stays
// pending until its address confirms it, and SNS cannot delete a pending
// one: destroying the stack deletes the topic, which deletes its
// subscriptions (sdk sns/topicSubscription.go, the note on email).
func (d *deployer) alarmTopic() (pulumi.StringOutput, error) {
	m := d.args.Monitoring
	if m.AlarmTopicARN != "" {
		return pulumi.String(m.AlarmTopicARN).ToStringOutput(), nil
	}
	topic, err := sns.NewTopic(d.ctx, d.child("alarms"), &sns.TopicArgs{}, d.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if m.AlarmEmail != "" {
		if _, err := sns.NewTopicSubscription(d.ctx, d.child("alarm-email"), &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(m.AlarmEmail),
		}, d.parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return topic.Arn, nil
}

// accessLogFilters count the throttled and the quota-exceeded answers of
// the access log. A filter's default value of 0 makes every other line a
// 0, so a quiet minute reads 0, not a gap.
func (d *deployer) accessLogFilters() error {
	key := accessKey(d.def(), varErrorType)
	for _, m := range accessLogMetrics {
		if _, err := cloudwatch.NewLogMetricFilter(d.ctx, d.child(strings.ToLower(m.name)+"-filter"), &cloudwatch.LogMetricFilterArgs{
			Name:         pulumi.String(d.name + "-" + m.name),
			LogGroupName: d.accessLogs.Name,
			Pattern:      pulumi.String(fmt.Sprintf(`{ $.%s = "%s" }`, key, m.errorType)),
			MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
				Name:         pulumi.String(m.name),
				Namespace:    pulumi.String(AccessLogNamespace(d.name)),
				Value:        pulumi.String("1"),
				DefaultValue: pulumi.String("0"),
				Unit:         pulumi.String("Count"),
			},
		}, d.parent); err != nil {
			return err
		}
	}
	return nil
}

// contributorRule is a Contributor Insights rule on a log group of JSON
// lines (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContributorInsights-RuleSyntax.html).
type contributorRule struct {
	Schema struct {
		Name    string
		Version int
	}
	LogGroupNames []string
	LogFormat     string
	Contribution  struct {
		Keys    []string
		Filters []contributorFilter
	}
	AggregateOn string
}

type contributorFilter struct {
	Match string
	In    []string `json:",omitempty"`
	NotIn []string `json:",omitempty"`
}

// contributorRules are the principals that call most and the source IPs
// refused most (401, 403 and 429, which the access log writes as quoted
// strings). The provider never updates a rule in place (tf
// internal/service/cloudwatch/contributor_insight_rule.go:
// framework.WithNoOpUpdate): a changed definition replaces it, the old one
// deleted first, since the new one has its name.
func (d *deployer) contributorRules() error {
	def := d.def()
	rules := []struct {
		what    string
		key     string
		filters []contributorFilter
	}{
		{"top-principals", accessKey(def, varPrincipal), []contributorFilter{{Match: "$." + accessKey(def, varPrincipal), NotIn: []string{"-", ""}}}},
		{"top-refused-ips", accessKey(def, varSourceIP), []contributorFilter{{Match: "$." + accessKey(def, varStatus), In: []string{"401", "403", "429"}}}},
	}
	for _, r := range rules {
		body := d.accessLogs.Name.ApplyT(func(group string) (string, error) {
			var rule contributorRule
			rule.Schema.Name, rule.Schema.Version = "CloudWatchLogRule", 1
			rule.LogGroupNames = []string{group}
			rule.LogFormat = "JSON"
			rule.Contribution.Keys = []string{"$." + r.key}
			rule.Contribution.Filters = r.filters
			rule.AggregateOn = "Count"
			b, err := json.Marshal(rule)
			return string(b), err
		}).(pulumi.StringOutput)
		if _, err := cloudwatch.NewContributorInsightRule(d.ctx, d.child(r.what), &cloudwatch.ContributorInsightRuleArgs{
			RuleName:       pulumi.String(d.name + "-" + r.what),
			RuleDefinition: body,
			RuleState:      pulumi.String("ENABLED"),
		}, d.parent, pulumi.ReplaceOnChanges([]string{"ruleDefinition", "ruleName", "ruleState"}), pulumi.DeleteBeforeReplace(true)); err != nil {
			return err
		}
	}
	return nil
}

// Saved Logs Insights queries' names, after "tollgate/<stack>/": the
// console lists them in that folder.
const (
	QueryLastUse  = "last use per client"
	QueryRefusals = "refusals by reason"
)

// refusalsQuery counts the authorizer's refusals by outcome and reason,
// from its decision lines.
const refusalsQuery = "filter msg = \"decision\" and (outcome = \"deny\" or outcome = \"unauthorized\")\n| stats count(*) as refusals by outcome, reason\n| sort refusals desc"

func (d *deployer) savedQueries() error {
	queries := []struct {
		name, query string
		group       pulumi.StringOutput
	}{
		{QueryLastUse, lastuse.Query(accessKey(d.def(), varPrincipal)), d.accessLogs.Name},
		{QueryRefusals, refusalsQuery, d.logGroups[d.def().Authorizer.Function].Name},
	}
	for _, q := range queries {
		if _, err := cloudwatch.NewQueryDefinition(d.ctx, d.child(strings.ReplaceAll(q.name, " ", "-")), &cloudwatch.QueryDefinitionArgs{
			Name:          pulumi.String("tollgate/" + d.name + "/" + q.name),
			QueryString:   pulumi.String(q.query),
			LogGroupNames: pulumi.StringArray{q.group},
		}, d.parent); err != nil {
			return err
		}
	}
	return nil
}

// keyTimes are the authorizer's key TTL and how long it serves keys it
// cannot refresh, as deployed: its environment read as the function reads
// it (authorizer.FromEnv, Config.KeyTimes), with a stand-in secret id. A
// setting the function would refuse (it would not start) leaves the
// defaults.
func (d *deployer) keyTimes() (ttl, maxStale time.Duration) {
	def := d.def()
	env := def.Functions[def.Authorizer.Function].Env
	_, cfg, err := authorizer.FromEnv(func(k string) string {
		if k == authorizer.EnvSecretID {
			return "stand-in"
		}
		return env[k]
	})
	if err != nil {
		cfg = authorizer.Config{}
	}
	return cfg.KeyTimes()
}
