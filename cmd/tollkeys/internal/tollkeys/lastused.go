package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"tollgate/authorizer"
	"tollgate/internal/lastuse"
)

// insightsAPIs are the CloudWatch Logs calls last-used makes; the SDK's
// client implements them.
type insightsAPIs interface {
	StartQuery(ctx context.Context, in *cloudwatchlogs.StartQueryInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StartQueryOutput, error)
	GetQueryResults(ctx context.Context, in *cloudwatchlogs.GetQueryResultsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetQueryResultsOutput, error)
}

// lastUsedReport is what last-used prints.
type lastUsedReport struct {
	Source  string           `json:"source"`
	From    time.Time        `json:"from"`
	To      time.Time        `json:"to"`
	Clients []lastUsedClient `json:"clients"`
}

type lastUsedClient struct {
	Client string `json:"client"`
	// LastRequest is nil for a client of the keyring that made none in
	// the period.
	LastRequest *time.Time `json:"lastRequest"`
	Requests    int64      `json:"requests"`
}

// lastUsedCommand parses last-used's flags and runs it.
func lastUsedCommand(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("tollkeys last-used", flag.ContinueOnError)
	fs.SetOutput(stderr)
	local := fs.Bool("local", false, "read the local run's access log file (.tollgate/access.log)")
	file := fs.String("access-log", "", "with -local: the access log file (default .tollgate/access.log, and the .1 before it)")
	group := fs.String("log-group", "", "the stage's access log group on AWS, /aws/apigateway/STACK/STAGE/access (the deploy's)")
	region := fs.String("region", "", "AWS Region (default: the AWS configuration's)")
	days := fs.Int("days", 30, "how many days back")
	principalKey := fs.String("principal-key", "principalId", "the access log's key of $context.authorizer.principalId (a Definition's AccessLog; tollgate's is principalId)")
	timeKey := fs.String("time-key", "requestTime", "with -local: the access log's key of $context.requestTimeEpoch")
	keyringFile := fs.String("keyring", "", "a keyring JSON file: its clients that made no request are listed too")
	asJSON := fs.Bool("json", false, "print JSON, for scripts")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 || *days < 1 || *days > 3650 || *local == (*group != "") {
		fmt.Fprintln(stderr, "usage: tollkeys last-used (-local [-access-log FILE] | -log-group GROUP [-region R]) [-days N] [-keyring FILE] [-json]")
		return 2
	}
	to := now().UTC()
	report := lastUsedReport{From: to.AddDate(0, 0, -*days), To: to}
	clients := map[string]*lastuse.Client{}
	err := func() error {
		if *local {
			report.Source = cmp.Or(*file, lastuseLocalFile)
			return readLocalLog(report.Source, *file == "", *principalKey, *timeKey, report.From, to, clients)
		}
		report.Source = *group
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		var opts []func(*config.LoadOptions) error
		if *region != "" {
			opts = append(opts, config.WithRegion(*region))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return fmt.Errorf("AWS configuration: %w", err)
		}
		return queryLastUse(ctx, cloudwatchlogs.NewFromConfig(cfg), *group, *principalKey, report.From, to, time.Second, clients)
	}()
	if err == nil && *keyringFile != "" {
		err = addKeyringClients(*keyringFile, clients)
	}
	if err != nil {
		fmt.Fprintln(stderr, "tollkeys last-used:", err)
		return 1
	}
	report.Clients = sortedClients(clients)
	if *asJSON {
		printJSON(stdout, report)
		return 0
	}
	printLastUsed(stdout, report, to)
	return 0
}

// lastuseLocalFile is the local run's access log (local.AccessLogFile in
// the default state directory).
const lastuseLocalFile = ".tollgate/access.log"

// readLocalLog sums a local access log file and, for the default one, the
// file it was rotated to before.
func readLocalLog(path string, withRotated bool, principalKey, timeKey string, from, to time.Time, into map[string]*lastuse.Client) error {
	paths := []string{path}
	if withRotated {
		paths = []string{path + ".1", path}
	}
	read := 0
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		err = lastuse.Read(f, principalKey, timeKey, from, to, into)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		read++
	}
	if read == 0 {
		return fmt.Errorf("%s: no access log: start the local run (go run ./cmd/local) and call the API first", path)
	}
	return nil
}

// queryLastUse runs lastuse.Query on the log group with Logs Insights
// (StartQuery, then GetQueryResults until the query is Complete,
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetQueryResults.html),
// polling every poll.
func queryLastUse(ctx context.Context, c insightsAPIs, group, principalKey string, from, to time.Time, poll time.Duration, into map[string]*lastuse.Client) error {
	start, err := c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{
		LogGroupName: aws.String(group),
		QueryString:  aws.String(lastuse.Query(principalKey)),
		StartTime:    aws.Int64(from.Unix()),
		EndTime:      aws.Int64(to.Unix()),
		Limit:        aws.Int32(10000),
	})
	if err != nil {
		return fmt.Errorf("the Logs Insights query on %s: %w", group, err)
	}
	for {
		out, err := c.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: start.QueryId})
		if err != nil {
			return fmt.Errorf("the Logs Insights results: %w", err)
		}
		switch out.Status {
		case types.QueryStatusComplete:
			return insightsRows(out.Results, principalKey, into)
		case types.QueryStatusFailed, types.QueryStatusCancelled, types.QueryStatusTimeout, types.QueryStatusUnknown:
			return fmt.Errorf("the Logs Insights query: %s", out.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the Logs Insights query: %w", ctx.Err())
		case <-time.After(poll):
		}
	}
}

// insightsTime is how Logs Insights writes a timestamp in results, UTC.
const insightsTime = "2006-01-02 15:04:05.000"

// insightsRows reads the query's rows: principal, lastUsed, requests.
func insightsRows(rows [][]types.ResultField, principalKey string, into map[string]*lastuse.Client) error {
	for _, row := range rows {
		c := &lastuse.Client{}
		for _, f := range row {
			v := aws.ToString(f.Value)
			switch aws.ToString(f.Field) {
			case principalKey:
				c.Principal = v
			case "lastUsed":
				t, err := time.Parse(insightsTime, v)
				if err != nil {
					return fmt.Errorf("lastUsed %q: %w", v, err)
				}
				c.Last = t.UTC()
			case "requests":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return fmt.Errorf("requests %q: %w", v, err)
				}
				c.Requests = n
			}
		}
		if c.Principal != "" {
			into[c.Principal] = c
		}
	}
	return nil
}

// addKeyringClients adds the keyring's clients that made no request. A
// keyring that does not parse is an error whose text holds no key.
func addKeyringClients(path string, into map[string]*lastuse.Client) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var kr authorizer.Keyring
	if err := json.Unmarshal(b, &kr); err != nil {
		return fmt.Errorf("%s: not a keyring", path)
	}
	for _, k := range kr.Keys {
		if _, ok := into[k.ID]; !ok && k.ID != "" {
			into[k.ID] = &lastuse.Client{Principal: k.ID}
		}
	}
	return nil
}

// sortedClients are the clients, the most recently seen first, those
// never seen last, by name.
func sortedClients(m map[string]*lastuse.Client) []lastUsedClient {
	out := []lastUsedClient{}
	for _, c := range m {
		lc := lastUsedClient{Client: c.Principal, Requests: c.Requests}
		if !c.Last.IsZero() {
			t := c.Last
			lc.LastRequest = &t
		}
		out = append(out, lc)
	}
	slices.SortFunc(out, func(a, b lastUsedClient) int {
		switch {
		case a.LastRequest == nil && b.LastRequest == nil:
			return cmp.Compare(a.Client, b.Client)
		case a.LastRequest == nil:
			return 1
		case b.LastRequest == nil:
			return -1
		}
		return cmp.Or(b.LastRequest.Compare(*a.LastRequest), cmp.Compare(a.Client, b.Client))
	})
	return out
}

func printLastUsed(w io.Writer, r lastUsedReport, now time.Time) {
	fmt.Fprintf(w, "%s, %s to %s\n\n", r.Source, r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tLAST REQUEST\tAGO\tREQUESTS")
	for _, c := range r.Clients {
		if c.LastRequest == nil {
			fmt.Fprintf(tw, "%s\tnone in the period\t-\t0\n", c.Client)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", c.Client, c.LastRequest.Format(time.RFC3339), now.Sub(*c.LastRequest).Round(time.Minute), c.Requests)
	}
	_ = tw.Flush()
}
