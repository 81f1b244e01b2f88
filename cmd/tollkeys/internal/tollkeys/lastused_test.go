package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"tollgate/internal/lastuse"
)

// fakeInsights answers a query: running for a few polls, then its
// status and rows.
type fakeInsights struct {
	start   *cloudwatchlogs.StartQueryInput
	running int
	status  types.QueryStatus
	rows    [][]types.ResultField
}

func (f *fakeInsights) StartQuery(_ context.Context, in *cloudwatchlogs.StartQueryInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StartQueryOutput, error) {
	f.start = in
	return &cloudwatchlogs.StartQueryOutput{QueryId: aws.String("q-1")}, nil
}

func (f *fakeInsights) GetQueryResults(_ context.Context, in *cloudwatchlogs.GetQueryResultsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetQueryResultsOutput, error) {
	if aws.ToString(in.QueryId) != "q-1" {
		return nil, errors.New("unknown query")
	}
	if f.running > 0 {
		f.running--
		return &cloudwatchlogs.GetQueryResultsOutput{Status: types.QueryStatusRunning}, nil
	}
	return &cloudwatchlogs.GetQueryResultsOutput{Status: f.status, Results: f.rows}, nil
}

func row(kv ...string) []types.ResultField {
	var out []types.ResultField
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.ResultField{Field: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// Issue 31: last-used runs the saved query's text on the stage's log
// group over the period, waits for it, and reads its rows; a query that
// fails is an error.
func TestQueryLastUse(t *testing.T) {
	from, to := time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	f := &fakeInsights{running: 2, status: types.QueryStatusComplete, rows: [][]types.ResultField{
		row("principalId", "mobile", "lastUsed", "2026-12-05 17:04:05.123", "requests", "42"),
		row("principalId", "reports", "lastUsed", "2026-11-07 00:00:00.000", "requests", "1"),
	}}
	got := map[string]*lastuse.Client{}
	if err := queryLastUse(context.Background(), f, "/aws/apigateway/tollgate-dev/dev/access", "principalId", from, to, time.Millisecond, got); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.start.QueryString) != lastuse.Query("principalId") || aws.ToInt64(f.start.StartTime) != from.Unix() || aws.ToInt64(f.start.EndTime) != to.Unix() ||
		aws.ToString(f.start.LogGroupName) != "/aws/apigateway/tollgate-dev/dev/access" {
		t.Errorf("query %+v", f.start)
	}
	if m := got["mobile"]; m == nil || m.Requests != 42 || !m.Last.Equal(time.Date(2026, 12, 5, 17, 4, 5, 123e6, time.UTC)) || got["reports"].Requests != 1 {
		t.Errorf("clients %+v", got)
	}
	for _, status := range []types.QueryStatus{types.QueryStatusFailed, types.QueryStatusTimeout, types.QueryStatusCancelled} {
		f := &fakeInsights{status: status}
		if err := queryLastUse(context.Background(), f, "g", "principalId", from, to, time.Millisecond, map[string]*lastuse.Client{}); err == nil || !strings.Contains(err.Error(), string(status)) {
			t.Errorf("%s: %v", status, err)
		}
	}
	bad := &fakeInsights{status: types.QueryStatusComplete, rows: [][]types.ResultField{row("principalId", "x", "lastUsed", "yesterday")}}
	if err := queryLastUse(context.Background(), bad, "g", "principalId", from, to, time.Millisecond, map[string]*lastuse.Client{}); err == nil {
		t.Error("a row whose time does not parse was read")
	}
}

// Locally, last-used reads the access log file (and the one rotated
// before it), lists the keyring's clients that made no request last, and
// prints JSON for scripts; no key reaches its output.
func TestLastUsedLocal(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	line := func(p string, at time.Time) string {
		b, _ := json.Marshal(map[string]string{"principalId": p, "requestTime": strconv.FormatInt(at.UnixMilli(), 10), "status": "200"})
		return string(b) + "\n"
	}
	// The local run's access log and the one rotated before it, where
	// -local reads them.
	state := filepath.Join(dir, ".tollgate")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(state, "access.log")
	if err := os.WriteFile(log+".1", []byte(line("reports", now.Add(-72*time.Hour))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, []byte(line("mobile", now.Add(-2*time.Hour))+line("mobile", now.Add(-time.Hour))+line("old", now.AddDate(0, 0, -40))), 0o600); err != nil {
		t.Fatal(err)
	}
	kr := filepath.Join(dir, "keyring.json")
	if err := os.WriteFile(kr, []byte(`{"keys":[{"id":"mobile","sha256":"`+strings.Repeat("a", 64)+`"},{"id":"unused","sha256":"`+strings.Repeat("b", 64)+`"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	if code := run([]string{"last-used", "-local", "-keyring", kr, "-json"}, nil, &out, &errOut, func() time.Time { return now }); code != 0 {
		t.Fatalf("%d %s", code, errOut.String())
	}
	var r lastUsedReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range r.Clients {
		names = append(names, c.Client)
	}
	if strings.Join(names, ",") != "mobile,reports,unused" || r.Clients[0].Requests != 2 || !r.Clients[0].LastRequest.Equal(now.Add(-time.Hour)) ||
		r.Clients[2].LastRequest != nil {
		t.Errorf("report %s", out.String())
	}
	out.Reset()
	if code := run([]string{"last-used", "-local", "-keyring", kr}, nil, &out, &errOut, func() time.Time { return now }); code != 0 || !strings.Contains(out.String(), "unused") || !strings.Contains(out.String(), "none in the period") {
		t.Errorf("%d %s %s", code, out.String(), errOut.String())
	}
}

// Wrong command lines are refused with the usage line; a missing log and
// a keyring that does not parse are errors that name no key.
func TestLastUsedBadInput(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"last-used"},
		{"last-used", "-local", "-log-group", "g"},
		{"last-used", "-local", "-days", "0"},
		{"last-used", "-local", "extra"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, nil, &out, &errOut, time.Now); code != 2 || !strings.Contains(errOut.String(), "usage: tollkeys last-used") {
			t.Errorf("%v: %d %s", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"last-used", "-local"}, nil, &out, &errOut, time.Now); code != 1 || !strings.Contains(errOut.String(), "no access log") {
		t.Errorf("no log: %d %s", code, errOut.String())
	}
	if err := os.WriteFile("access.log", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	secret := "tgk_" + strings.Repeat("s", 38)
	if err := os.WriteFile("kr.json", []byte(`{"keys":[{"id":"x","key":"`+secret+`"`), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run([]string{"last-used", "-local", "-access-log", "access.log", "-keyring", "kr.json"}, nil, &out, &errOut, time.Now); code != 1 || strings.Contains(errOut.String(), secret) || !strings.Contains(errOut.String(), "not a keyring") {
		t.Errorf("bad keyring: %d %s", code, errOut.String())
	}
}
