package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"tollgate/internal/emulator/local"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/logsink"
)

// fakeUsage answers usage's calls from a stage's plans, a page at a
// time, as API Gateway does with position.
type fakeUsage struct {
	plans  []types.UsagePlan
	keys   map[string][]types.UsagePlanKey
	values map[string]map[string][][]int64
	asked  []string
}

func (f *fakeUsage) GetUsagePlans(_ context.Context, in *apigateway.GetUsagePlansInput, _ ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error) {
	f.asked = append(f.asked, "plans "+aws.ToString(in.Position))
	// One plan a page.
	i, _ := strconv.Atoi(aws.ToString(in.Position))
	out := &apigateway.GetUsagePlansOutput{Items: f.plans[i : i+1]}
	if i+1 < len(f.plans) {
		out.Position = aws.String(strconv.Itoa(i + 1))
	}
	return out, nil
}

func (f *fakeUsage) GetUsagePlanKeys(_ context.Context, in *apigateway.GetUsagePlanKeysInput, _ ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeysOutput, error) {
	return &apigateway.GetUsagePlanKeysOutput{Items: f.keys[aws.ToString(in.UsagePlanId)]}, nil
}

func (f *fakeUsage) GetUsage(_ context.Context, in *apigateway.GetUsageInput, _ ...func(*apigateway.Options)) (*apigateway.GetUsageOutput, error) {
	f.asked = append(f.asked, fmt.Sprintf("usage %s %s..%s", aws.ToString(in.UsagePlanId), aws.ToString(in.StartDate), aws.ToString(in.EndDate)))
	return &apigateway.GetUsageOutput{Items: f.values[aws.ToString(in.UsagePlanId)]}, nil
}

// usage reads every plan of the stage (and only the stage's), matches
// GetUsage's values to keys by id or by value, leaves out the stack's
// name that prefixes plans and keys, and prints a row per client with a
// bar per day; -json prints the same for scripts. No key value is
// printed.
func TestUsageOfADeployedStage(t *testing.T) {
	stage := func(api, stage string) []types.ApiStage {
		return []types.ApiStage{{ApiId: aws.String(api), Stage: aws.String(stage)}}
	}
	f := &fakeUsage{
		plans: []types.UsagePlan{
			{Id: aws.String("p1"), Name: aws.String("tollgate-dev-free"), ApiStages: stage("a1", "dev"), Quota: &types.QuotaSettings{Limit: 10000, Period: types.QuotaPeriodTypeDay}},
			{Id: aws.String("p2"), Name: aws.String("other-prod"), ApiStages: stage("a2", "prod")},
			{Id: aws.String("p3"), Name: aws.String("tollgate-dev-partner"), ApiStages: stage("a1", "dev")},
		},
		keys: map[string][]types.UsagePlanKey{
			"p1": {{Id: aws.String("k1"), Name: aws.String("tollgate-dev-default"), Value: aws.String("secret-value-of-default-key")}},
			"p3": {{Id: aws.String("k2"), Name: aws.String("tollgate-dev-reports"), Value: aws.String("secret-value-of-reports-key")}},
		},
		values: map[string]map[string][][]int64{
			"p1": {"k1": {{0, 10000}, {40, 9960}, {120, 9880}}},
			// Keyed by the key's value: read, never printed.
			"p3": {"secret-value-of-reports-key": {{7, -1}, {0, -1}, {1400, -1}}},
		},
	}
	end := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	r, err := readUsage(context.Background(), f, "a1", "dev", end.AddDate(0, 0, -2), end)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Clients) != 2 || r.Clients[0].Client != "default" || r.Clients[0].Plan != "free" || r.Clients[1].Client != "reports" || r.Clients[1].Plan != "partner" {
		t.Fatalf("clients = %+v, want default on free and reports on partner", r.Clients)
	}
	if c := r.Clients[0]; c.Requests != 160 || c.Quota == nil || c.Quota.Remaining != 9880 || c.Quota.Period != "DAY" {
		t.Errorf("default = %+v, want 160 requests and 9880 left today", c)
	}
	if c := r.Clients[1]; c.Requests != 1407 || c.Quota != nil || c.Days[0].Used != 7 {
		t.Errorf("reports = %+v, want 1407 requests, no quota", c)
	}
	if want := []string{"plans ", "usage p1 2026-12-04..2026-12-06", "plans 1", "plans 2", "usage p3 2026-12-04..2026-12-06"}; strings.Join(f.asked, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q, want %q (every page, the stage's plans only)", f.asked, want)
	}
	var out bytes.Buffer
	printUsage(&out, r)
	checkUsageTable(t, []string{"CLIENT PLAN PER DAY REQUESTS QUOTA LEFT", "default free ·▃█ 160 9880 of 10000 today", "reports partner ▁·█ 1407 no quota"}, out.String())
	if strings.Contains(out.String(), "secret-value") {
		t.Errorf("a key value was printed:\n%s", out.String())
	}
}

func TestSparklineAndPrefix(t *testing.T) {
	for _, c := range []struct {
		used []int64
		want string
	}{
		{[]int64{0, 0, 0}, "···"},
		{[]int64{1, 0, 8}, "▁·█"},
		{[]int64{1, 2, 3, 4, 5, 6, 7, 8}, "▁▂▃▄▅▆▇█"},
		{[]int64{1000000, 1}, "█▁"},
	} {
		var days []dayUsage
		for _, u := range c.used {
			days = append(days, dayUsage{Used: u})
		}
		if got := sparkline(days); got != c.want {
			t.Errorf("sparkline(%v) = %q, want %q", c.used, got, c.want)
		}
	}
	for _, c := range []struct {
		names []string
		want  string
	}{
		{[]string{"tollgate-dev-free", "tollgate-dev-default", "tollgate-dev-reports"}, "tollgate-dev-"},
		{[]string{"free", "default"}, ""},
		{[]string{"tollgate-dev-free"}, ""},
		{[]string{"pro-a", "pro-b", "default"}, ""},
	} {
		if got := sharedPrefix(c.names); got != c.want {
			t.Errorf("sharedPrefix(%q) = %q, want %q", c.names, got, c.want)
		}
	}
}

// Issue 30: README's "Limits per client", followed as written: its stack
// file, `go run ./cmd/local -stack`, its curl lines and the answer each
// says, and `tollkeys usage -local` printing the rows it shows.
func TestREADMELimitsPerClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the functions and runs the local gateway")
	}
	steps := readLimitsSection(t)
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	bins, err := hostBinaries(root)
	if err != nil {
		t.Fatal(err)
	}
	// A quota resets at 00:00 UTC: a run across it is taken again.
	for attempt := 1; ; attempt++ {
		day := time.Now().UTC().Format(time.DateOnly)
		out := followLimits(t, steps, root, bins)
		if time.Now().UTC().Format(time.DateOnly) == day || attempt == 2 {
			checkUsageTable(t, steps.table, out)
			return
		}
	}
}

type limitsSteps struct {
	stackFile, stackYAML, stack string
	curls                       []curlStep
	usageArgs                   []string
	table                       []string
}

type curlStep struct {
	variable, path string
	status         int
	answer         string // the start of its body, after the status
}

func readLimitsSection(t *testing.T) limitsSteps {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Limits per client\n")
	if !ok {
		t.Fatal(`README.md has no "## Limits per client" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var s limitsSteps
	if m := regexp.MustCompile("as `(Pulumi\\.([a-z]+)\\.yaml)`").FindStringSubmatch(section); m != nil {
		s.stackFile, s.stack = m[1], m[2]
	}
	var shells []string
	for _, blk := range regexp.MustCompile("(?s)```(\\w+)\n(.*?)```").FindAllStringSubmatch(section, -1) {
		switch blk[1] {
		case "yaml":
			s.stackYAML = blk[2]
		case "sh":
			shells = append(shells, blk[2])
		case "text":
			s.table = strings.Split(strings.TrimSpace(blk[2]), "\n")
		}
	}
	if s.stackFile == "" || s.stackYAML == "" || len(shells) != 2 || len(s.table) < 2 {
		t.Fatalf("the section's steps are not where the test reads them: stack %q, %d sh blocks, %d table lines", s.stackFile, len(shells), len(s.table))
	}
	if strings.TrimSpace(shells[0]) != "go run ./cmd/local -stack "+s.stack {
		t.Errorf("the run step is %q, want go run ./cmd/local -stack %s", shells[0], s.stack)
	}
	curl := regexp.MustCompile(`^curl -i -H "Authorization: Bearer \$(\w+)" http://127\.0\.0\.1:8080(\S+)\s+# (\d+)(.*)$`)
	for _, line := range strings.Split(strings.TrimSpace(shells[1]), "\n") {
		if m := curl.FindStringSubmatch(line); m != nil {
			status, _ := strconv.Atoi(m[3])
			s.curls = append(s.curls, curlStep{variable: m[1], path: m[2], status: status, answer: strings.TrimSuffix(strings.TrimSpace(m[4]), "…}")})
			continue
		}
		args, ok := strings.CutPrefix(line, "go run ./cmd/tollkeys ")
		if !ok {
			t.Fatalf("a step the test cannot follow: %q", line)
		}
		s.usageArgs = strings.Fields(args)
	}
	if len(s.curls) == 0 || s.usageArgs == nil {
		t.Fatalf("no curl or usage step in:\n%s", shells[1])
	}
	return s
}

// followLimits takes the steps in a new directory and returns what
// tollkeys usage prints.
func followLimits(t *testing.T, s limitsSteps, root, bins string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, s.stackFile), []byte(s.stackYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	project, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o600); err != nil {
		t.Fatal(err)
	}
	stack, err := local.ReadStack(dir, s.stack)
	if err != nil {
		t.Fatal(err)
	}
	var printed bytes.Buffer
	logs := &logsink.Buffer{}
	m, err := local.Start(context.Background(), local.Config{
		Addr: "127.0.0.1:0", ModuleDir: root, BinDir: bins, StateDir: filepath.Join(dir, ".tollgate"), Stack: &stack,
		Out: &printed, FunctionLogs: logs, AccessLog: logs, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = m.Close()
		if t.Failed() {
			t.Logf("printed:\n%s\nlogs:\n%s", printed.String(), logs)
		}
	}()
	keys := map[string]string{}
	for _, e := range regexp.MustCompile(`export (TOLLGATE_KEY\w*)=(\S+)`).FindAllStringSubmatch(printed.String(), -1) {
		keys[e[1]] = e[2]
	}
	for i, c := range s.curls {
		key, ok := keys[c.variable]
		if !ok {
			t.Fatalf("curl %d uses $%s, which the run did not print (it printed %v)", i+1, c.variable, keys)
		}
		req, _ := http.NewRequest("GET", m.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != c.status || !strings.HasPrefix(string(body), c.answer) {
			t.Errorf("curl %d ($%s %s) = %d %s, want %d %s", i+1, c.variable, c.path, resp.StatusCode, body, c.status, c.answer)
		}
	}
	t.Chdir(dir) // -local reads .tollgate/control.json, as in the README
	var stdout, stderr bytes.Buffer
	if code := run(s.usageArgs, nil, &stdout, &stderr, time.Now); code != 0 {
		t.Fatalf("tollkeys %v: %d %s", s.usageArgs, code, stderr.String())
	}
	var asJSON bytes.Buffer
	if code := run(append(s.usageArgs, "-json"), nil, &asJSON, &stderr, time.Now); code != 0 {
		t.Fatalf("tollkeys %v -json: %d %s", s.usageArgs, code, stderr.String())
	}
	var r usageReport
	if err := json.Unmarshal(asJSON.Bytes(), &r); err != nil || len(r.Clients) != 2 {
		t.Errorf("-json: %v %s", err, asJSON.String())
	}
	// The same run's access log tells each client's last use (issue 31).
	var lastUsed bytes.Buffer
	if code := run([]string{"last-used", "-local", "-json"}, nil, &lastUsed, &stderr, time.Now); code != 0 {
		t.Fatalf("tollkeys last-used -local: %d %s", code, stderr.String())
	}
	var lu lastUsedReport
	ok := 0
	for _, c := range s.curls {
		if c.status == http.StatusOK {
			ok++
		}
	}
	var seen int64
	if err := json.Unmarshal(lastUsed.Bytes(), &lu); err == nil {
		for _, c := range lu.Clients {
			seen += c.Requests
			if c.LastRequest == nil || time.Since(*c.LastRequest) > time.Hour {
				t.Errorf("last-used: %s last %v", c.Client, c.LastRequest)
			}
		}
	}
	if seen < int64(ok) || len(lu.Clients) == 0 {
		t.Errorf("last-used counts %d requests of %d answered 200: %s", seen, ok, lastUsed.String())
	}
	return stdout.String()
}

// checkUsageTable finds each line of the README's table in what usage
// printed, with the columns' spacing left out.
func checkUsageTable(t *testing.T, table []string, out string) {
	t.Helper()
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	printed := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		printed[norm(line)] = true
	}
	for _, want := range table {
		if !printed[norm(want)] {
			t.Errorf("tollkeys usage did not print %q:\n%s", want, out)
		}
	}
}
