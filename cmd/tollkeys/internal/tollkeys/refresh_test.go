package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"tollgate/api"
	"tollgate/internal/emulator/local"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/logsink"
	"tollgate/internal/testkit/testbin"
)

// fakeAWS records refresh's calls.
type fakeAWS struct {
	calls   []string
	env     map[string]string
	updated map[string]string
	status  []lambdatypes.LastUpdateStatus // returned by the reads after the update, in turn
	fail    string                         // the call that fails
}

func (f *fakeAWS) GetFunctionConfiguration(_ context.Context, in *lambda.GetFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	f.calls = append(f.calls, "get")
	out := &lambda.GetFunctionConfigurationOutput{Environment: &lambdatypes.EnvironmentResponse{Variables: f.env}}
	if f.updated != nil && len(f.status) > 0 {
		out.LastUpdateStatus, f.status = f.status[0], f.status[1:]
		out.LastUpdateStatusReason = aws.String("because")
	}
	return out, nil
}

func (f *fakeAWS) UpdateFunctionConfiguration(_ context.Context, in *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	f.calls = append(f.calls, "update "+aws.ToString(in.FunctionName))
	if f.fail == "update" {
		return nil, errors.New("AccessDenied")
	}
	f.updated = in.Environment.Variables
	return &lambda.UpdateFunctionConfigurationOutput{}, nil
}

func (f *fakeAWS) FlushStageAuthorizersCache(_ context.Context, in *apigateway.FlushStageAuthorizersCacheInput, _ ...func(*apigateway.Options)) (*apigateway.FlushStageAuthorizersCacheOutput, error) {
	f.calls = append(f.calls, "flush "+aws.ToString(in.RestApiId)+"/"+aws.ToString(in.StageName))
	return &apigateway.FlushStageAuthorizersCacheOutput{}, nil
}

func (f *fakeAWS) ResetAuthorizersCache(_ context.Context, in *apigatewayv2.ResetAuthorizersCacheInput, _ ...func(*apigatewayv2.Options)) (*apigatewayv2.ResetAuthorizersCacheOutput, error) {
	f.calls = append(f.calls, "reset "+aws.ToString(in.ApiId)+"/"+aws.ToString(in.StageName))
	return &apigatewayv2.ResetAuthorizersCacheOutput{}, nil
}

// The order is what makes it immediate: the authorizers are replaced and
// the update is done before the cache is flushed, so that no old
// authorizer can cache an answer after the flush.
func TestRefreshOrder(t *testing.T) {
	now := time.UnixMilli(1796000000000)
	for _, c := range []struct {
		api  target
		want string
	}{
		{target{apiID: "abc", stage: "dev"}, "get,update fn,get,get,flush abc/dev"},
		{target{apiID: "abc", stage: "$default", http: true}, "get,update fn,get,get,reset abc/$default"},
	} {
		f := &fakeAWS{env: map[string]string{"TOLLGATE_SECRET_ID": "s"}, status: []lambdatypes.LastUpdateStatus{"InProgress", "Successful"}}
		if err := refresh(context.Background(), f, c.api, "fn", now, time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.calls, ","); got != c.want {
			t.Errorf("calls = %s, want %s", got, c.want)
		}
		if f.updated["TOLLGATE_SECRET_ID"] != "s" || f.updated[EnvRefresh] != "1796000000000" {
			t.Errorf("environment = %v: want the function's variables kept and %s set", f.updated, EnvRefresh)
		}
	}

	for name, f := range map[string]*fakeAWS{
		"update refused": {fail: "update"},
		"update failed":  {status: []lambdatypes.LastUpdateStatus{"Failed"}},
	} {
		err := refresh(context.Background(), f, target{apiID: "abc", stage: "dev"}, "fn", now, time.Minute)
		if err == nil || strings.Contains(strings.Join(f.calls, ","), "flush") {
			t.Errorf("%s: %v, calls %v; want an error and no flush", name, err, f.calls)
		}
	}
}

// Against the local run, as a REST API and as an HTTP API: a removed key
// is still let in (the cached answer, the authorizer's held keys) until
// refresh, and refused right after it.
func TestRefreshAgainstLocal(t *testing.T) {
	for _, c := range []struct {
		typ     api.APIType
		refused int // a REST API answers an unknown key 401, an HTTP API 403 (isAuthorized false)
		flag    string
	}{
		{api.REST, 401, ""},
		{api.HTTP, 403, " -http"},
	} {
		t.Run(string(c.typ), func(t *testing.T) { refreshAgainstLocal(t, c.typ, c.refused, c.flag) })
	}
}

// hostBinaries builds the functions for this machine, once a test
// process, into a lasting directory (testbin): up to date, nothing is
// linked again.
var hostBinaries = func() func(root string) (string, error) {
	var (
		once sync.Once
		dir  string
		err  error
	)
	return func(root string) (string, error) {
		once.Do(func() {
			// Released when the process ends.
			if dir, _, err = testbin.Dir("tollkeys-host"); err != nil {
				return
			}
			_, err = lambdabuild.Build(context.Background(), root, dir, lambdabuild.Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH},
				map[string]string{"authorizer": "./cmd/authorizer", "handler": "./cmd/handler"})
		})
		return dir, err
	}
}()

func refreshAgainstLocal(t *testing.T, typ api.APIType, refused int, flag string) {
	dir := t.TempDir()
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	bins, err := hostBinaries(root)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keyring.json")
	code, out, _ := tollkeys(t, "", "new", "-id", "stays", keys)
	if code != 0 {
		t.Fatal("new")
	}
	stays := strings.TrimSpace(out)
	_, out, _ = tollkeys(t, "", "new", "-id", "goes", keys)
	goes := strings.TrimSpace(out)

	logs := &logsink.Buffer{}
	m, err := local.Start(context.Background(), local.Config{
		Addr: "127.0.0.1:0", BinDir: bins, StateDir: dir, KeysFile: keys, APIType: typ,
		FunctionLogs: logs, AccessLog: logs, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Close()
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	status := func(key string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", m.URL+"/hello", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(goes); s != 200 {
		t.Fatalf("before removal: %d", s)
	}
	if code, _, errOut := tollkeys(t, "", "remove", "-id", "goes", keys); code != 0 {
		t.Fatal(errOut)
	}
	if s := status(goes); s != 200 {
		t.Fatalf("right after removal: %d, want 200 from the result cache (the documented window)", s)
	}
	var routes strings.Builder
	m.Routes(&routes)
	creds := localaws.ControlCredentialsFile(dir)
	line := fmt.Sprintf("go run ./cmd/tollkeys refresh -endpoint %s -credentials %s -api-id %s -stage dev -function authorizer%s\n", m.ControlURL, creds, m.Gateway().APIID(), flag)
	if !strings.Contains(routes.String(), line) {
		t.Errorf("the local run does not print %q:\n%s", line, routes.String())
	}
	var stdout, stderr strings.Builder
	args := []string{"-endpoint", m.ControlURL, "-api-id", m.Gateway().APIID(), "-stage", "dev", "-function", "authorizer"}
	if flag != "" {
		args = append(args, strings.TrimSpace(flag))
	}
	// Without the run's credentials, refused (issue 26, defect 9).
	if code := refreshCommand(append([]string{"-credentials", filepath.Join(dir, "nope.json")}, args...), &stdout, &stderr, time.Now); code != 1 {
		t.Fatalf("refresh without the run's credentials: exit %d, want 1", code)
	}
	args = append([]string{"-credentials", creds}, args...)
	if code := refreshCommand(args, &stdout, &stderr, time.Now); code != 0 {
		t.Fatalf("refresh: exit %d: %s", code, stderr.String())
	}
	if s := status(goes); s != refused {
		t.Errorf("after refresh: %d, want %d", s, refused)
	}
	if s := status(stays); s != 200 {
		t.Errorf("the remaining key after refresh: %d", s)
	}
	// Wrong names are errors, not silent successes.
	other := "-http" // the other kind of API's call names no stage of this one
	if flag != "" {
		other = "-http=false"
	}
	for _, args := range [][]string{
		{"-credentials", creds, "-endpoint", m.ControlURL, "-api-id", "nope", "-stage", "dev", "-function", "authorizer", strings.TrimSpace(flag)},
		{"-credentials", creds, "-endpoint", m.ControlURL, "-api-id", m.Gateway().APIID(), "-stage", "dev", "-function", "nope", strings.TrimSpace(flag)},
		{"-credentials", creds, "-endpoint", m.ControlURL, "-api-id", m.Gateway().APIID(), "-stage", "dev", "-function", "authorizer", other},
	} {
		if args[len(args)-1] == "" {
			args = args[:len(args)-1]
		}
		if code := refreshCommand(args, &stdout, &stderr, time.Now); code != 1 {
			t.Errorf("refresh %v: exit %d, want 1", args, code)
		}
	}
	if strings.Contains(logs.String(), goes) || strings.Contains(logs.String(), stays) {
		t.Error("a key reached the logs")
	}
}
