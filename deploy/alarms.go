package deploy

import (
	"fmt"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/authorizer"
)

// metric is one CloudWatch metric: namespace, name and dimensions, in
// order. A dimension's value apiIDValue stands for the HTTP API's id,
// known once it is created.
type metric struct {
	Namespace, Name string
	Dims            [][2]string
}

const apiIDValue = "\x00apiId"

// Namespaces of AWS's metrics
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html,
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
const (
	nsAPIGateway = "AWS/ApiGateway"
	nsLambda     = "AWS/Lambda"
)

// apiMetric is the stage's metric: a REST API's by ApiName and Stage, of
// name rest; an HTTP API's by ApiId and Stage, of name http (the pages
// above: REST 4XXError and 5XXError, HTTP 4xx and 5xx).
func (d *deployer) apiMetric(rest, http string) metric {
	def := d.def()
	if def.IsHTTP() {
		return metric{nsAPIGateway, http, [][2]string{{"ApiId", apiIDValue}, {"Stage", def.Stage}}}
	}
	return metric{nsAPIGateway, rest, [][2]string{{"ApiName", d.name}, {"Stage", def.Stage}}}
}

func lambdaMetric(fn, name string) metric {
	return metric{nsLambda, name, [][2]string{{"FunctionName", fn}}}
}

// authorizerMetric is one of the authorizer's metrics, of its function,
// with more dimensions.
func (d *deployer) authorizerMetric(name string, dims ...[2]string) metric {
	return metric{authorizer.MetricNamespace, name, append([][2]string{{"function", d.authorizerFunction()}}, dims...)}
}

func (d *deployer) authorizerFunction() string {
	return FunctionName(d.name, d.def().Authorizer.Function)
}

// dimsInput are m's dimensions for a resource, with the API's id.
func (d *deployer) dimsInput(m metric) pulumi.StringMap {
	out := pulumi.StringMap{}
	for _, kv := range m.Dims {
		if kv[1] == apiIDValue {
			out[kv[0]] = d.apiID.ToStringOutput()
		} else {
			out[kv[0]] = pulumi.String(kv[1])
		}
	}
	return out
}

// query is one metric or expression of an alarm's metric math.
type query struct {
	id         string
	metric     *metric
	stat       string
	expression string
	label      string
	returnData bool
}

// alarm is one alarm: what it watches, when it fires, and what to do.
type alarm struct {
	what, description string
	queries           []query
	op                string
	threshold         float64
	thresholdID       string // an anomaly band's query id, instead of threshold
	periods, points   int
}

// alarmPeriod is every alarm's period, in seconds: a multiple of 60
// (tf internal/service/cloudwatch/metric_alarm.go: period 10, 20, 30 or
// IntDivisibleBy(60)).
const alarmPeriod = 60

// alarmSpecs are the alarms, each for something a person must act on;
// README "Running it" says what to do about each.
func (d *deployer) alarmSpecs() []alarm {
	ttl, maxStale := d.keyTimes()
	errs := d.authorizerMetric(authorizer.MetricDecisions, [2]string{"outcome", "error"})
	invalid := d.authorizerMetric(authorizer.MetricKeyringInvalid)
	age := d.authorizerMetric(authorizer.MetricKeyringAge)
	fivexx := d.apiMetric("5XXError", "5xx")
	count := d.apiMetric("Count", "Count")
	refused := d.authorizerMetric(authorizer.MetricDecisions, [2]string{"outcome", "unauthorized"})
	return []alarm{{
		what:        "authorizer-errors",
		description: "The authorizer could not decide, and so refused, in each of 3 minutes: callers with good keys are refused. Read its log's error lines.",
		// Its own count, not Lambda's Errors: a REST authorizer answers
		// 401 with the error "Unauthorized"
		// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html),
		// which Lambda counts as a function error
		// (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html:
		// Errors, "invocations that result in a function error"), so
		// every unknown key would be one. A crash or a timeout is a 500
		// at the stage: the 5xx-rate alarm's.
		queries: []query{{id: "errors", metric: &errs, stat: "Sum", returnData: true}},
		op:      "GreaterThanOrEqualToThreshold", threshold: 1, periods: 3, points: 3,
	}, {
		what:        "keyring-invalid",
		description: "The authorizer read a keyring it refuses: until it is fixed, every request fails. Put the last good version back (tollkeys) or pulumi up.",
		queries:     []query{{id: "invalid", metric: &invalid, stat: "Sum", returnData: true}},
		op:          "GreaterThanOrEqualToThreshold", threshold: 1, periods: 1, points: 1,
	}, {
		what: "keyring-stale",
		description: fmt.Sprintf("The authorizer's keys are older than %s, twice their TTL, for 3 minutes: it cannot read the secret, and refuses every request once they pass %s. Read its log's key refresh failures.",
			2*ttl, maxStale),
		queries: []query{{id: "age", metric: &age, stat: "Maximum", returnData: true}},
		op:      "GreaterThanThreshold", threshold: (2 * ttl).Seconds(), periods: 3, points: 3,
	}, {
		what:        "5xx-rate",
		description: "More than 5% of the stage's answers were 5xx in 3 of 5 minutes: a function fails or times out. Read the functions' logs and the access log's integrationStatus.",
		queries: []query{
			{id: "fivexx", metric: &fivexx, stat: "Sum"},
			{id: "requests", metric: &count, stat: "Sum"},
			{id: "rate", expression: "100 * fivexx / requests", label: "5xx %", returnData: true},
		},
		op: "GreaterThanThreshold", threshold: 5, periods: 5, points: 3,
	}, {
		what:        "refusals-rise",
		description: "Refusals for a missing or unknown key rose above their usual band for 5 minutes: a client lost its key, or someone is guessing. Run the saved query refusals by reason, and the top refused IPs rule.",
		queries: []query{
			{id: "refused", metric: &refused, stat: "Sum", returnData: true},
			{id: "band", expression: "ANOMALY_DETECTION_BAND(refused, 3)", label: "usual refusals", returnData: true},
		},
		op: "GreaterThanUpperThreshold", thresholdID: "band", periods: 5, points: 5,
	}}
}

// alarms creates the alarms, sending to topic when they fire and when
// they recover. A minute without data is not a breach: an idle API has
// none.
func (d *deployer) alarms(topic pulumi.StringOutput) ([]*cloudwatch.MetricAlarm, error) {
	var out []*cloudwatch.MetricAlarm
	for _, a := range d.alarmSpecs() {
		var queries cloudwatch.MetricAlarmMetricQueryArray
		for _, q := range a.queries {
			mq := &cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(q.id), ReturnData: pulumi.Bool(q.returnData)}
			if q.label != "" {
				mq.Label = pulumi.String(q.label)
			}
			if q.metric != nil {
				mq.Metric = &cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace:  pulumi.String(q.metric.Namespace),
					MetricName: pulumi.String(q.metric.Name),
					Dimensions: d.dimsInput(*q.metric),
					Period:     pulumi.Int(alarmPeriod),
					Stat:       pulumi.String(q.stat),
				}
			} else {
				mq.Expression = pulumi.String(q.expression)
			}
			queries = append(queries, mq)
		}
		args := &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(d.name + "-" + a.what),
			AlarmDescription:   pulumi.String(a.description + " (tollgate README, Running it)"),
			ComparisonOperator: pulumi.String(a.op),
			EvaluationPeriods:  pulumi.Int(a.periods),
			DatapointsToAlarm:  pulumi.Int(a.points),
			MetricQueries:      queries,
			TreatMissingData:   pulumi.String("notBreaching"),
			AlarmActions:       pulumi.Array{topic},
			OkActions:          pulumi.Array{topic},
		}
		if a.thresholdID != "" {
			args.ThresholdMetricId = pulumi.String(a.thresholdID)
		} else {
			args.Threshold = pulumi.Float64(a.threshold)
		}
		// An alarm's name is its identity: a renamed one is a new
		// alarm, and the provider refuses to create one whose name
		// exists (tf internal/service/cloudwatch/metric_alarm.go:
		// alarm_name ForceNew; resourceMetricAlarmCreate "already
		// exists").
		al, err := cloudwatch.NewMetricAlarm(d.ctx, d.child("alarm-"+a.what), args, d.parent)
		if err != nil {
			return nil, err
		}
		out = append(out, al)
	}
	return out, nil
}
