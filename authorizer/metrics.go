package authorizer

import (
	"strconv"
	"time"
)

// The authorizer's metrics, in CloudWatch's embedded metric format
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// each is a member of a line the authorizer logs anyway (a decision, a
// refresh, an invalid keyring), named in the line's "_aws" directive, so
// CloudWatch Logs extracts it with no call of the function's own. Every
// metric has the dimension function (the function's name); no metric has
// a dimension per client, whose cost would grow with the clients: who
// called is the access log's.
const (
	// MetricNamespace is the metrics' CloudWatch namespace.
	MetricNamespace = "tollgate"
	// MetricDecisions counts decisions (1 on each decision line), by
	// outcome (allow, deny, unauthorized, error) and, for a refusal
	// (deny, unauthorized), by reason: one of the fixed reasons, never
	// an error's text.
	MetricDecisions = "Decisions"
	// MetricColdStarts counts the first decision of an environment.
	MetricColdStarts = "ColdStarts"
	// MetricKeyringAge is, on each decision line, how long ago the keys
	// it was decided with were read from the secret, in seconds: it stays
	// under the key TTL while refreshes succeed, and grows toward
	// TOLLGATE_KEY_MAX_STALE while they fail.
	MetricKeyringAge = "KeyringAge"
	// MetricKeyRefreshes and MetricKeyRefreshFailures count the reads of
	// the secret that loaded keys and those that failed (an invalid
	// keyring is MetricKeyringInvalid instead).
	MetricKeyRefreshes       = "KeyRefreshes"
	MetricKeyRefreshFailures = "KeyRefreshFailures"
	// MetricJWKSRefreshes and MetricJWKSRefreshFailures count the JWKS
	// reads, with JWTs on.
	MetricJWKSRefreshes       = "JWKSRefreshes"
	MetricJWKSRefreshFailures = "JWKSRefreshFailures"
	// MetricKeyringInvalid counts the reads that found a keyring the
	// authorizer refuses: every request fails until it is fixed.
	MetricKeyringInvalid = metricKeyringInvalid
)

// Metric is one metric the authorizer emits: its name, unit and
// dimension sets, as its directives declare it.
type Metric struct {
	Name       string
	Unit       string
	Dimensions [][]string
}

// Metrics are every metric the authorizer emits. The deploy's dashboard
// and alarms name only these (a test holds them to it).
var Metrics = []Metric{
	{MetricDecisions, "Count", [][]string{{"function", "outcome"}, {"function", "reason"}}},
	{MetricColdStarts, "Count", [][]string{{"function"}}},
	{MetricKeyringAge, "Seconds", [][]string{{"function"}}},
	{MetricKeyRefreshes, "Count", [][]string{{"function"}}},
	{MetricKeyRefreshFailures, "Count", [][]string{{"function"}}},
	{MetricJWKSRefreshes, "Count", [][]string{{"function"}}},
	{MetricJWKSRefreshFailures, "Count", [][]string{{"function"}}},
	{MetricKeyringInvalid, "Count", [][]string{{"function"}}},
}

// appendDecisionEMF appends the "_aws" directive of a decision line: the
// Decisions metric by outcome (and by reason for a refusal), ColdStarts
// on an environment's first, KeyringAge when keys were read. The JSON is
// written as encoding/json writes it (the line's other encoder, slog's,
// writes the same bytes: FuzzDecisionLine).
func appendDecisionEMF(buf []byte, t time.Time, refusal, cold, age bool) []byte {
	buf = append(buf, `{"CloudWatchMetrics":[{"Dimensions":[["function","outcome"]`...)
	if refusal {
		buf = append(buf, `,["function","reason"]`...)
	}
	buf = append(buf, `],"Metrics":[{"Name":"Decisions","Unit":"Count"}]`...)
	buf = append(buf, `,"Namespace":"tollgate"}`...)
	if cold || age {
		buf = append(buf, `,{"Dimensions":[["function"]],"Metrics":[`...)
		if cold {
			buf = append(buf, `{"Name":"ColdStarts","Unit":"Count"}`...)
		}
		if cold && age {
			buf = append(buf, ',')
		}
		if age {
			buf = append(buf, `{"Name":"KeyringAge","Unit":"Seconds"}`...)
		}
		buf = append(buf, `],"Namespace":"tollgate"}`...)
	}
	buf = append(buf, `],"Timestamp":`...)
	buf = strconv.AppendInt(buf, t.UnixMilli(), 10)
	return append(buf, '}')
}
