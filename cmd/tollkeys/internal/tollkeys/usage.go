package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"tollgate/internal/emulator/localaws"
)

// usageAPIs are the API Gateway calls usage makes; the SDK's client
// implements them.
type usageAPIs interface {
	GetUsagePlans(ctx context.Context, in *apigateway.GetUsagePlansInput, opts ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error)
	GetUsagePlanKeys(ctx context.Context, in *apigateway.GetUsagePlanKeysInput, opts ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeysOutput, error)
	GetUsage(ctx context.Context, in *apigateway.GetUsageInput, opts ...func(*apigateway.Options)) (*apigateway.GetUsageOutput, error)
}

// clientUsage is one client's usage over the days asked for.
type clientUsage struct {
	Client   string     `json:"client"`
	KeyID    string     `json:"keyId"`
	Plan     string     `json:"plan"`
	Days     []dayUsage `json:"days"`
	Requests int64      `json:"requests"`
	Quota    *quotaLeft `json:"quota,omitempty"`
}

type dayUsage struct {
	Date string `json:"date"`
	Used int64  `json:"used"`
	// Remaining is the quota left at the day's end, -1 without a quota.
	Remaining int64 `json:"remaining"`
}

type quotaLeft struct {
	Limit     int32  `json:"limit"`
	Period    string `json:"period"`
	Remaining int64  `json:"remaining"`
}

// usageReport is what usage prints.
type usageReport struct {
	APIID     string        `json:"apiId"`
	Stage     string        `json:"stage"`
	StartDate string        `json:"startDate"`
	EndDate   string        `json:"endDate"`
	Clients   []clientUsage `json:"clients"`
}

// usageCommand parses usage's flags and runs it.
func usageCommand(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("tollkeys usage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	local := fs.Bool("local", false, "read a local run's usage (go run ./cmd/local -stack NAME), through its control endpoint")
	credsFile := fs.String("credentials", "", "with -local: the local run's control file (default .tollgate/control.json)")
	region := fs.String("region", "", "AWS Region (default: the AWS configuration's)")
	apiID := fs.String("api-id", "", "the REST API's id (with -local, the local run's)")
	stage := fs.String("stage", "", "the stage (with -local, the local run's)")
	days := fs.Int("days", 7, "how many days back, today (UTC) included")
	asJSON := fs.Bool("json", false, "print JSON, for scripts")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 || *days < 1 || *days > 90 || !*local && (*apiID == "" || *stage == "") {
		fmt.Fprintln(stderr, "usage: tollkeys usage (-local [-credentials FILE] | -api-id ID -stage STAGE [-region R]) [-days 1..90] [-json]")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var opts []func(*config.LoadOptions) error
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	var base *string
	if *local {
		path := *credsFile
		if path == "" {
			path = localaws.ControlCredentialsFile(".tollgate")
		}
		creds, err := readControlCredentials(path)
		if err == nil && creds.Endpoint == "" {
			err = fmt.Errorf("%s names no endpoint: restart the local run", path)
		}
		if err != nil {
			fmt.Fprintln(stderr, "tollkeys usage:", err)
			return 1
		}
		base = aws.String(creds.Endpoint)
		*apiID, *stage = cmp.Or(*apiID, creds.APIID), cmp.Or(*stage, creds.Stage)
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")))
		if *region == "" {
			opts = append(opts, config.WithRegion(localaws.Region))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "tollkeys usage: AWS configuration:", err)
		return 1
	}
	c := apigateway.NewFromConfig(cfg, func(o *apigateway.Options) { o.BaseEndpoint = base })
	end := now().UTC()
	report, err := readUsage(ctx, c, *apiID, *stage, end.AddDate(0, 0, 1-*days), end)
	if err != nil {
		fmt.Fprintln(stderr, "tollkeys usage:", err)
		return 1
	}
	if *asJSON {
		printJSON(stdout, report)
		return 0
	}
	printUsage(stdout, report)
	return 0
}

// printJSON prints a report for scripts (-json), indented.
func printJSON(w io.Writer, report any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(report)
}

// readUsage reads the usage of every client on a usage plan of the stage,
// from start to end (UTC days, both included): the stage's plans
// (GetUsagePlans), the API keys on each (GetUsagePlanKeys) and their
// usage (GetUsage: for each key, [used, remaining] per day,
// https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsage.html).
// GetUsage's values are matched by key id or value; a value is never
// printed.
func readUsage(ctx context.Context, c usageAPIs, apiID, stage string, start, end time.Time) (usageReport, error) {
	r := usageReport{APIID: apiID, Stage: stage, StartDate: start.Format(time.DateOnly), EndDate: end.Format(time.DateOnly), Clients: []clientUsage{}}
	var names []string
	var pos *string
	for {
		out, err := c.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{Position: pos})
		if err != nil {
			return r, fmt.Errorf("usage plans: %w", err)
		}
		for _, p := range out.Items {
			if !slices.ContainsFunc(p.ApiStages, func(s types.ApiStage) bool { return aws.ToString(s.ApiId) == apiID && aws.ToString(s.Stage) == stage }) {
				continue
			}
			plan := aws.ToString(p.Name)
			names = append(names, plan)
			keys, err := planKeys(ctx, c, aws.ToString(p.Id))
			if err != nil {
				return r, fmt.Errorf("keys of plan %s: %w", plan, err)
			}
			values, err := planUsage(ctx, c, aws.ToString(p.Id), r.StartDate, r.EndDate)
			if err != nil {
				return r, fmt.Errorf("usage of plan %s: %w", plan, err)
			}
			for _, k := range keys {
				cu := clientUsage{Client: aws.ToString(k.Name), KeyID: aws.ToString(k.Id), Plan: plan}
				names = append(names, cu.Client)
				daily, ok := values[cu.KeyID]
				if !ok {
					daily = values[aws.ToString(k.Value)]
				}
				for i, d := 0, start; !d.After(end); i, d = i+1, d.AddDate(0, 0, 1) {
					du := dayUsage{Date: d.Format(time.DateOnly), Remaining: -1}
					if i < len(daily) && len(daily[i]) == 2 {
						du.Used, du.Remaining = daily[i][0], daily[i][1]
					}
					cu.Requests += du.Used
					cu.Days = append(cu.Days, du)
				}
				if q := p.Quota; q != nil {
					left := int64(q.Limit)
					if n := len(cu.Days); n > 0 && cu.Days[n-1].Remaining >= 0 {
						left = cu.Days[n-1].Remaining
					}
					cu.Quota = &quotaLeft{Limit: q.Limit, Period: string(q.Period), Remaining: left}
				}
				r.Clients = append(r.Clients, cu)
			}
		}
		if pos = out.Position; pos == nil || *pos == "" {
			break
		}
	}
	// A deployed stack names its plans and keys NAME-plan and
	// NAME-client (deploy.usagePlans): the shared prefix is left out.
	prefix := sharedPrefix(names)
	for i := range r.Clients {
		r.Clients[i].Client = strings.TrimPrefix(r.Clients[i].Client, prefix)
		r.Clients[i].Plan = strings.TrimPrefix(r.Clients[i].Plan, prefix)
	}
	slices.SortFunc(r.Clients, func(a, b clientUsage) int { return strings.Compare(a.Client, b.Client) })
	return r, nil
}

func planKeys(ctx context.Context, c usageAPIs, planID string) ([]types.UsagePlanKey, error) {
	var keys []types.UsagePlanKey
	var pos *string
	for {
		out, err := c.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: &planID, Position: pos})
		if err != nil {
			return nil, err
		}
		keys = append(keys, out.Items...)
		if pos = out.Position; pos == nil || *pos == "" {
			return keys, nil
		}
	}
}

func planUsage(ctx context.Context, c usageAPIs, planID, start, end string) (map[string][][]int64, error) {
	values := map[string][][]int64{}
	var pos *string
	for {
		out, err := c.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: &planID, StartDate: &start, EndDate: &end, Position: pos})
		if err != nil {
			return nil, err
		}
		for k, v := range out.Items {
			values[k] = append(values[k], v...)
		}
		if pos = out.Position; pos == nil || *pos == "" {
			return values, nil
		}
	}
}

// sharedPrefix is the prefix every name shares, up to and including its
// last '-', or "" when they share none (or there is one name).
func sharedPrefix(names []string) string {
	if len(names) < 2 {
		return ""
	}
	p := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, p) {
			p = p[:len(p)-1]
		}
	}
	if i := strings.LastIndexByte(p, '-'); i >= 0 {
		return p[:i+1]
	}
	return ""
}

// sparkline draws counts as a bar each, of eight heights: the largest
// full, the rest in proportion (rounded up), none a dot.
func sparkline(days []dayUsage) string {
	const bars = "▁▂▃▄▅▆▇█"
	var top int64
	for _, d := range days {
		top = max(top, d.Used)
	}
	var b strings.Builder
	runes := []rune(bars)
	for _, d := range days {
		if d.Used == 0 {
			b.WriteRune('·')
			continue
		}
		n := int64(len(runes))
		b.WriteRune(runes[(d.Used*n+top-1)/top-1])
	}
	return b.String()
}

// printUsage prints the report as a table, a row per client.
func printUsage(w io.Writer, r usageReport) {
	fmt.Fprintf(w, "Stage %s of %s, %s to %s (UTC days):\n\n", r.Stage, r.APIID, r.StartDate, r.EndDate)
	if len(r.Clients) == 0 {
		fmt.Fprintln(w, "No usage plan of this stage has a client.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tPLAN\tPER DAY\tREQUESTS\tQUOTA LEFT")
	for _, c := range r.Clients {
		left := "no quota"
		if q := c.Quota; q != nil {
			left = fmt.Sprintf("%d of %d %s", q.Remaining, q.Limit, map[string]string{"DAY": "today", "WEEK": "this week", "MONTH": "this month"}[q.Period])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", c.Client, c.Plan, sparkline(c.Days), c.Requests, left)
	}
	_ = tw.Flush()
}
