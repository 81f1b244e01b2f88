package localsm

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"tollgate/authorizer"
)

// SetOnChange is told the keyring taken now and each change taken later,
// never an invalid one: the local gateway's API keys follow the file.
func TestSetOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	write(t, path, keyringA)
	s, err := Open("tollgate/dev/keyring", path, "us-east-1", "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	s.SetOnChange(func(kr authorizer.Keyring) { told = append(told, kr.Keys[0].ID+" "+kr.Keys[0].Plan) })
	for _, doc := range []string{
		`{"keys":[{"id":"mobile-app","key":"tg_local_mobile_key_0123456789abcdefghij","usageKey":"usage-key-mobile-000000","plan":"partner"}]}`,
		`{"keys":[{"id":"mobile-app","plan":"partner"}]}`, // invalid: refused
	} {
		write(t, path, doc)
		s.mu.Lock()
		s.reload()
		s.mu.Unlock()
	}
	if want := []string{"mobile-app ", "mobile-app partner"}; strings.Join(told, "|") != strings.Join(want, "|") {
		t.Errorf("told %q, want %q", told, want)
	}
}

const (
	keyringA = `{"keys":[{"id":"mobile-app","key":"tg_local_mobile_key_0123456789abcdefghij"}]}`
	keyringB = `{"keys":[{"id":"mobile-app","key":"tg_local_mobile_key_rotated_0123456789abcd"}]}`
	keyringC = `{"keys":[{"id":"mobile-app","key":"tg_local_mobile_key_third_0123456789abcdefg"}]}`
)

// serve starts the endpoint and returns a real SDK client pointed at it,
// as the authorizer's is through AWS_ENDPOINT_URL_SECRETS_MANAGER.
func serve(t *testing.T, content string) (*Store, string, *secretsmanager.Client) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyring.json")
	write(t, path, content)
	s, err := Open("tollgate/dev/keyring", path, "us-east-1", "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.AnonymousCredentials{},
	})
	return s, path, client
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, c *secretsmanager.Client, id, stage string) (string, error) {
	t.Helper()
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	out, err := c.GetSecretValue(context.Background(), in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.SecretString), nil
}

func wantValue(t *testing.T, c *secretsmanager.Client, id, stage, want string) {
	t.Helper()
	got, err := get(t, c, id, stage)
	if err != nil || got != want {
		t.Fatalf("GetSecretValue(%s, %s) = %q, %v; want %q", id, stage, got, err, want)
	}
}

func wantNotFound(t *testing.T, c *secretsmanager.Client, id, stage string) {
	t.Helper()
	_, err := get(t, c, id, stage)
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetSecretValue(%s, %s) error = %v, want ResourceNotFoundException", id, stage, err)
	}
}

func TestGetSecretValue(t *testing.T) {
	s, _, c := serve(t, keyringA)
	wantValue(t, c, "tollgate/dev/keyring", "AWSCURRENT", keyringA)
	wantValue(t, c, "tollgate/dev/keyring", "", keyringA)
	wantValue(t, c, s.ARN(), "AWSCURRENT", keyringA)
	wantNotFound(t, c, "tollgate/dev/keyring", "AWSPREVIOUS")
	wantNotFound(t, c, "other", "AWSCURRENT")
	if !strings.HasPrefix(s.ARN(), "arn:aws:secretsmanager:us-east-1:123456789012:secret:tollgate/dev/keyring-") {
		t.Errorf("ARN() = %s", s.ARN())
	}
}

// Editing the file rotates the secret like put-secret-value:
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/getting-started.html#term_version
func TestEditingTheFileRotates(t *testing.T) {
	_, path, c := serve(t, keyringA)
	write(t, path, keyringB)
	wantValue(t, c, "tollgate/dev/keyring", "AWSCURRENT", keyringB)
	wantValue(t, c, "tollgate/dev/keyring", "AWSPREVIOUS", keyringA)

	// An invalid keyring is refused: the last valid version stays.
	write(t, path, `{"keys":[{"id":"weak","key":"short"}]}`)
	wantValue(t, c, "tollgate/dev/keyring", "AWSCURRENT", keyringB)
	wantValue(t, c, "tollgate/dev/keyring", "AWSPREVIOUS", keyringA)

	write(t, path, keyringC)
	wantValue(t, c, "tollgate/dev/keyring", "AWSCURRENT", keyringC)
	wantValue(t, c, "tollgate/dev/keyring", "AWSPREVIOUS", keyringB)

	// A deleted file serves the last version.
	_ = os.Remove(path)
	wantValue(t, c, "tollgate/dev/keyring", "AWSCURRENT", keyringC)
}

// The authorizer reads the current version through its client against
// this endpoint: the key the edit replaced is gone.
func TestAuthorizerReadsIt(t *testing.T) {
	_, path, c := serve(t, keyringA)
	write(t, path, keyringB)
	endpoint := *c.Options().BaseEndpoint
	env := map[string]string{authorizer.EnvAWSRegion: "us-east-1", authorizer.EnvAWSAccessKeyID: "AKIDLOCAL", authorizer.EnvAWSSecretAccessKey: "local", authorizer.EnvAWSEndpoint: endpoint}
	client, err := authorizer.SecretsManagerFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := authorizer.New(authorizer.Config{Source: authorizer.SecretsManager(client, "tollgate/dev/keyring")})
	if err != nil {
		t.Fatal(err)
	}
	for key, allow := range map[string]bool{"tg_local_mobile_key_rotated_0123456789abcd": true, "tg_local_mobile_key_0123456789abcdefghij": false} {
		out, err := a.Invoke(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"Bearer `+key+`","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/hello"}`))
		if got := err == nil && strings.Contains(string(out), `"Effect":"Allow"`); got != allow {
			t.Fatalf("Invoke with %s… = %s, %v; want allowed %v", key[:24], out, err, allow)
		}
	}
}

func TestRefusesOtherCalls(t *testing.T) {
	s, _, _ := serve(t, keyringA)
	for _, tt := range []struct {
		method, target, body string
		wantStatus           int
		wantType             string
	}{
		{"POST", "secretsmanager.PutSecretValue", `{}`, 400, "UnknownOperationException"},
		{"POST", "secretsmanager.GetSecretValue", `{`, 400, "SerializationException"},
		{"GET", "secretsmanager.GetSecretValue", ``, 405, "InvalidRequestException"},
	} {
		req := httptest.NewRequest(tt.method, "/", strings.NewReader(tt.body))
		req.Header.Set("X-Amz-Target", tt.target)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), `"__type":"`+tt.wantType+`"`) {
			t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.target, rec.Code, rec.Body, tt.wantStatus, tt.wantType)
		}
	}
}

func TestOpenRefusesAnInvalidKeyring(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	write(t, path, `{"keys":[{"id":"weak","key":"hunter2"}]}`)
	if _, err := Open("x", path, "us-east-1", "123456789012", nil); err == nil || !strings.Contains(err.Error(), `key "weak"`) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open() = %v, want an error naming the key by id only", err)
	}
	if _, err := Open("x", filepath.Join(t.TempDir(), "missing.json"), "us-east-1", "123456789012", nil); err == nil {
		t.Fatal("Open() of a missing file succeeded")
	}
}

// Issue 17, 2.7: with AccessKeyID set (the local run sets a new one for
// each run and gives it only to the authorizer's environment), another
// local process cannot read the keyring: requests not signed with that
// access key are refused as AWS refuses an unknown one.
func TestOnlyTheRunsCredentialsReadIt(t *testing.T) {
	s, _, _ := serve(t, keyringA)
	s.AccessKeyID = "TGLOCALTESTKEY000001"
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := func(id string) *secretsmanager.Client {
		return secretsmanager.New(secretsmanager.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  credentials.NewStaticCredentialsProvider(id, "secret", ""),
		})
	}
	for name, c := range map[string]*secretsmanager.Client{
		"unsigned":           secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}}),
		"another access key": client("AKIAOTHERKEY00000001"),
	} {
		_, err := get(t, c, "tollgate/dev/keyring", "")
		var apiErr interface{ ErrorCode() string }
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnrecognizedClientException" {
			t.Errorf("%s: %v, want UnrecognizedClientException", name, err)
		}
	}
	wantValue(t, client("TGLOCALTESTKEY000001"), "tollgate/dev/keyring", "", keyringA)
}

// SetWarn's messages are logged for the keyring taken now and for each
// change taken later; an invalid change is refused, not warned of.
func TestSetWarn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	write(t, path, keyringA)
	var logs strings.Builder
	s, err := Open("tollgate/dev/keyring", path, "us-east-1", "123456789012", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.SetWarn(func(kr authorizer.Keyring) []string {
		return []string{"key " + kr.Keys[0].ID + " noted"}
	})
	write(t, path, keyringB)
	s.mu.Lock()
	s.reload()
	s.mu.Unlock()
	if n := strings.Count(logs.String(), `level=WARN msg="keyring: key mobile-app noted"`); n != 2 {
		t.Errorf("%d warnings, want 2 (at SetWarn and at the change):\n%s", n, logs.String())
	}
}
