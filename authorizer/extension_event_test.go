package authorizer

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The Extensions API's INVOKE event
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html#extensions-api-next)
// is read for its eventType and deadlineMs; anything else is an error
// that stops the extension, and keys are then refreshed in the
// background.
func TestInvokeDeadline(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       int64 // deadline in ms; 0 for an error
		err        string
	}{
		{"Lambda's example", `{"eventType":"INVOKE","deadlineMs":1676051802020,"requestId":"3da1f2dc-3222-475e-9205-e2e6c6318895","invokedFunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:f","tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1-5f35ae12-0c0fec141ab77a00bc047aa2;Parent=2be948a625588e32;Sampled=1"}}`, 1676051802020, ""},
		{"spaces, order", " { \"deadlineMs\" : 5 , \"eventType\" : \"INVOKE\" } ", 5, ""},
		{"shutdown", `{"eventType":"SHUTDOWN","deadlineMs":5,"shutdownReason":"spindown"}`, 0, "unexpected event"},
		{"no deadline", `{"eventType":"INVOKE"}`, 0, "no deadlineMs"},
		{"deadline not a number", `{"eventType":"INVOKE","deadlineMs":"5"}`, 0, "event/next"},
		{"fractional deadline", `{"eventType":"INVOKE","deadlineMs":5.5}`, 0, "event/next"},
		{"not JSON", `{"eventType":"INVOKE",`, 0, "event/next"},
		{"empty", ``, 0, "event/next"},
		{"array", `[]`, 0, "event/next"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := invokeDeadline([]byte(tt.body))
			switch {
			case tt.err == "" && (err != nil || !got.Equal(time.UnixMilli(tt.want))):
				t.Errorf("invokeDeadline = %v, %v; want %v", got, err, time.UnixMilli(tt.want))
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("invokeDeadline = %v, %v; want an error with %q", got, err, tt.err)
			}
		})
	}
}

// What invokeDeadline accepts, encoding/json reads the same way: valid
// JSON, eventType INVOKE, the same deadline.
func FuzzInvokeDeadline(f *testing.F) {
	f.Add([]byte(`{"eventType":"INVOKE","deadlineMs":1676051802020,"requestId":"x"}`))
	f.Add([]byte(`{"eventType":"SHUTDOWN","deadlineMs":5}`))
	f.Add([]byte(`{"deadlineMs":-1,"eventType":"INV\u004fKE","x":[1,{"a":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := invokeDeadline(body)
		if err != nil {
			return
		}
		var ev map[string]any
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&ev); err != nil || dec.More() {
			t.Fatalf("accepted what encoding/json refuses (%v): %q", err, body)
		}
		ms, err := ev["deadlineMs"].(json.Number).Int64()
		if ev["eventType"] != "INVOKE" || err != nil || !got.Equal(time.UnixMilli(ms)) {
			t.Fatalf("read %v from %q; encoding/json reads %v", got, body, ev)
		}
	})
}
