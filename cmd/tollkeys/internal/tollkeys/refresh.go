package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"tollgate/internal/emulator/localaws"
)

// EnvRefresh is the variable `refresh` sets on the authorizer function:
// the time of the refresh. The authorizer does not read it; changing it is
// what makes Lambda start new execution environments, whose init loads the
// keys again.
const EnvRefresh = "TOLLGATE_REFRESHED_AT"

// refreshAPIs are the calls refresh makes; the SDK clients implement
// them. A REST API's cache is flushed with API Gateway's
// FlushStageAuthorizersCache, an HTTP API's reset with API Gateway v2's
// ResetAuthorizersCache.
type refreshAPIs interface {
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	FlushStageAuthorizersCache(ctx context.Context, in *apigateway.FlushStageAuthorizersCacheInput, opts ...func(*apigateway.Options)) (*apigateway.FlushStageAuthorizersCacheOutput, error)
	ResetAuthorizersCache(ctx context.Context, in *apigatewayv2.ResetAuthorizersCacheInput, opts ...func(*apigatewayv2.Options)) (*apigatewayv2.ResetAuthorizersCacheOutput, error)
}

type sdkClients struct {
	*lambda.Client
	gw  *apigateway.Client
	gw2 *apigatewayv2.Client
}

func (c sdkClients) FlushStageAuthorizersCache(ctx context.Context, in *apigateway.FlushStageAuthorizersCacheInput, opts ...func(*apigateway.Options)) (*apigateway.FlushStageAuthorizersCacheOutput, error) {
	return c.gw.FlushStageAuthorizersCache(ctx, in, opts...)
}

func (c sdkClients) ResetAuthorizersCache(ctx context.Context, in *apigatewayv2.ResetAuthorizersCacheInput, opts ...func(*apigatewayv2.Options)) (*apigatewayv2.ResetAuthorizersCacheOutput, error) {
	return c.gw2.ResetAuthorizersCache(ctx, in, opts...)
}

// refreshCommand parses refresh's flags and runs it.
func refreshCommand(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("tollkeys refresh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	region := fs.String("region", "", "AWS Region (default: the AWS configuration's)")
	apiID := fs.String("api-id", "", "the API's id")
	httpAPI := fs.Bool("http", false, "the API is an HTTP API (API Gateway v2), not a REST API")
	stage := fs.String("stage", "", "the stage")
	function := fs.String("function", "", "the authorizer function's name")
	endpoint := fs.String("endpoint", "", "send the calls to this endpoint instead of AWS (the URL `go run ./cmd/local` prints)")
	credsFile := fs.String("credentials", "", "with -endpoint: the local run's control credentials (the file `go run ./cmd/local` prints; default .tollgate/control.json)")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for the function update")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *apiID == "" || *stage == "" || *function == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: tollkeys refresh -api-id ID -stage STAGE -function NAME [-http] [-region R] [-endpoint URL [-credentials FILE]]")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout+30*time.Second)
	defer cancel()
	var opts []func(*config.LoadOptions) error
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	if *endpoint != "" {
		// The local run answers only its own credentials, new for each
		// run (localaws.ControlCredentialsFile).
		path := *credsFile
		if path == "" {
			path = localaws.ControlCredentialsFile(".tollgate")
		}
		creds, err := readControlCredentials(path)
		if err != nil {
			fmt.Fprintln(stderr, "tollkeys refresh:", err)
			return 1
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")))
		if *region == "" {
			opts = append(opts, config.WithRegion("us-east-1"))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "tollkeys refresh: AWS configuration:", err)
		return 1
	}
	var base *string
	if *endpoint != "" {
		base = aws.String(*endpoint)
	}
	c := sdkClients{
		Client: lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = base }),
		gw:     apigateway.NewFromConfig(cfg, func(o *apigateway.Options) { o.BaseEndpoint = base }),
		gw2:    apigatewayv2.NewFromConfig(cfg, func(o *apigatewayv2.Options) { o.BaseEndpoint = base }),
	}
	if err := refresh(ctx, c, target{apiID: *apiID, stage: *stage, http: *httpAPI}, *function, now(), *timeout); err != nil {
		fmt.Fprintln(stderr, "tollkeys refresh:", err)
		return 1
	}
	fmt.Fprintf(stdout, "The authorizer %s starts afresh and loads the keys, and stage %s of %s has no cached authorizer answers: a key removed from the keyring is refused from now on.\n", *function, *stage, *apiID)
	return 0
}

// readControlCredentials reads a local run's control credentials.
func readControlCredentials(path string) (localaws.ControlCredentials, error) {
	var c localaws.ControlCredentials
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && c.AccessKeyID == "" {
		err = errors.New("no accessKeyId")
	}
	if err != nil {
		return c, fmt.Errorf("the local run's control credentials (-credentials %s, written by go run ./cmd/local at its start): %w", path, err)
	}
	return c, nil
}

// refresh makes a key removal take effect at once. First every warm
// authorizer is replaced: changing the function's configuration makes
// Lambda start new execution environments, since an environment's
// configuration is fixed at its init
// (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html);
// then, once the update is done (so that no old authorizer can cache an
// answer again), the stage's authorizer cache is flushed
// (https://docs.aws.amazon.com/apigateway/latest/api/API_FlushStageAuthorizersCache.html;
// for an HTTP API,
// https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename-cache-authorizers.html).
// The function's other variables are kept: UpdateFunctionConfiguration
// replaces the whole environment.
func refresh(ctx context.Context, c refreshAPIs, api target, function string, now time.Time, timeout time.Duration) error {
	cur, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
	if err != nil {
		return fmt.Errorf("read %s's configuration: %w", function, err)
	}
	vars := map[string]string{}
	if cur.Environment != nil {
		maps.Copy(vars, cur.Environment.Variables)
	}
	vars[EnvRefresh] = strconv.FormatInt(now.UnixMilli(), 10)
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(function),
		Environment:  &lambdatypes.Environment{Variables: vars},
	}); err != nil {
		return fmt.Errorf("update %s: %w", function, err)
	}
	// An update is done when LastUpdateStatus is Successful
	// (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html).
	deadline := time.Now().Add(timeout)
	for {
		cur, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
		if err != nil {
			return fmt.Errorf("read %s's configuration: %w", function, err)
		}
		switch cur.LastUpdateStatus {
		case lambdatypes.LastUpdateStatusSuccessful:
			if err := api.flush(ctx, c); err != nil {
				return fmt.Errorf("flush the authorizer cache of stage %s: %w", api.stage, err)
			}
			return nil
		case lambdatypes.LastUpdateStatusFailed:
			return fmt.Errorf("the update of %s failed: %s", function, aws.ToString(cur.LastUpdateStatusReason))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the update of %s is still %s after %s", function, cur.LastUpdateStatus, timeout)
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// target is the API whose stage's authorizer cache refresh empties.
type target struct {
	apiID, stage string
	http         bool // an HTTP API (API Gateway v2)
}

func (t target) flush(ctx context.Context, c refreshAPIs) error {
	if t.http {
		_, err := c.ResetAuthorizersCache(ctx, &apigatewayv2.ResetAuthorizersCacheInput{ApiId: aws.String(t.apiID), StageName: aws.String(t.stage)})
		return err
	}
	_, err := c.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{RestApiId: aws.String(t.apiID), StageName: aws.String(t.stage)})
	return err
}
