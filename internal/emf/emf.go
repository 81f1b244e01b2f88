// Package emf reads CloudWatch's embedded metric format: a JSON log line
// whose "_aws" member names metrics among its members, which CloudWatch
// Logs extracts
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
// The authorizer's tests check its lines with it, and the local run
// counts the authorizer's decisions with it, as CloudWatch would.
package emf

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrInvalid is wrapped by every error Parse returns for a line that has
// an "_aws" member CloudWatch would refuse.
var ErrInvalid = errors.New("invalid embedded metric format")

// Value is one metric datum a line yields: for each metric of a
// directive, one per dimension set.
type Value struct {
	Namespace  string
	Name       string
	Unit       string
	Value      float64
	Dimensions map[string]string
	Timestamp  int64 // milliseconds since the epoch
}

// Limits of the specification: at most 100 metrics a directive, and at
// most 30 dimensions a dimension set.
const (
	maxMetrics    = 100
	maxDimensions = 30
)

// Parse returns the metric values of one log line: none (and no error)
// for a line without an "_aws" member, an error wrapping ErrInvalid for
// one CloudWatch would not extract from: a directive without a namespace,
// a dimension that is not a string member of the line, a metric that is
// not a number member of it, a timestamp that is not a number.
func Parse(line []byte) ([]Value, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return nil, nil // not a JSON object: a plain log line
	}
	raw, ok := root["_aws"]
	if !ok {
		return nil, nil
	}
	var aws struct {
		Timestamp *float64 `json:"Timestamp"`
		Metrics   []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	if err := json.Unmarshal(raw, &aws); err != nil {
		return nil, fmt.Errorf("%w: _aws: %v", ErrInvalid, err)
	}
	if aws.Timestamp == nil {
		return nil, fmt.Errorf("%w: _aws.Timestamp missing", ErrInvalid)
	}
	if len(aws.Metrics) == 0 {
		return nil, fmt.Errorf("%w: _aws.CloudWatchMetrics empty", ErrInvalid)
	}
	var out []Value
	for _, d := range aws.Metrics {
		if d.Namespace == "" {
			return nil, fmt.Errorf("%w: a directive without a Namespace", ErrInvalid)
		}
		if len(d.Metrics) == 0 || len(d.Metrics) > maxMetrics {
			return nil, fmt.Errorf("%w: %d metrics in a directive", ErrInvalid, len(d.Metrics))
		}
		sets := d.Dimensions
		if len(sets) == 0 {
			sets = [][]string{{}}
		}
		for _, m := range d.Metrics {
			var v float64
			if err := json.Unmarshal(root[m.Name], &v); err != nil || m.Name == "" {
				return nil, fmt.Errorf("%w: metric %q is not a number member of the line", ErrInvalid, m.Name)
			}
			for _, set := range sets {
				if len(set) > maxDimensions {
					return nil, fmt.Errorf("%w: %d dimensions in a set", ErrInvalid, len(set))
				}
				dims := map[string]string{}
				for _, k := range set {
					var s string
					if err := json.Unmarshal(root[k], &s); err != nil {
						return nil, fmt.Errorf("%w: dimension %q is not a string member of the line", ErrInvalid, k)
					}
					dims[k] = s
				}
				out = append(out, Value{Namespace: d.Namespace, Name: m.Name, Unit: m.Unit, Value: v, Dimensions: dims, Timestamp: int64(*aws.Timestamp)})
			}
		}
	}
	return out, nil
}

// Key is a value's metric and dimensions, as CloudWatch tells its series
// apart: "Decisions function=f outcome=allow".
func (v Value) Key() string {
	k := v.Name
	for _, d := range slices.Sorted(maps.Keys(v.Dimensions)) {
		k += " " + d + "=" + v.Dimensions[d]
	}
	return k
}
