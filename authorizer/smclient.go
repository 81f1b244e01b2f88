package authorizer

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SecretsManagerClient makes the one Secrets Manager call the authorizer
// needs, GetSecretValue, over HTTPS with AWS's JSON 1.1 protocol, signed
// with Signature Version 4 by the SDK's own signer (aws/signer/v4), with
// the retries described at MaxAttempts. It replaces the SDK's Secrets
// Manager client, whose package initialisation and request machinery
// (endpoint rules, middleware) were most of the authorizer's cold start
// above a hello-world function's: about 5 ms of CPU, 70 ms at 128 MB.
// SecretsManagerFromEnv makes one.
type SecretsManagerClient struct {
	endpoint string // the URL requests are posted to
	region   string
	creds    aws.Credentials
	signer   *v4.Signer
	http     *http.Client
	now      func() time.Time
}

// Region is the Region the client signs for.
func (c *SecretsManagerClient) Region() string { return c.region }

// Endpoint is the URL the client posts to.
func (c *SecretsManagerClient) Endpoint() string { return c.endpoint }

// partitions are AWS's partitions, by the Regions they hold, and the DNS
// suffix of their endpoints, in the order the SDK tries them; a Region
// of none of them is in the aws partition (aws-sdk-go-v2
// internal/endpoints/awsrulesfn/partitions.json). Secrets Manager's
// regional endpoint is https://secretsmanager.REGION.SUFFIX
// (aws-sdk-go-v2 service/secretsmanager/endpoints.go, without FIPS or
// dual stack, which Lambda's environment does not ask for).
var partitions = []struct {
	regions *regexp.Regexp
	suffix  string
}{
	{regexp.MustCompile(`^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$`), "amazonaws.com"},
	{regexp.MustCompile(`^cn\-\w+\-\d+$`), "amazonaws.com.cn"},
	{regexp.MustCompile(`^eusc\-(de)\-\w+\-\d+$`), "amazonaws.eu"},
	{regexp.MustCompile(`^us\-iso\-\w+\-\d+$`), "c2s.ic.gov"},
	{regexp.MustCompile(`^us\-isob\-\w+\-\d+$`), "sc2s.sgov.gov"},
	{regexp.MustCompile(`^eu\-isoe\-\w+\-\d+$`), "cloud.adc-e.uk"},
	{regexp.MustCompile(`^us\-isof\-\w+\-\d+$`), "csp.hci.ic.gov"},
	{regexp.MustCompile(`^us\-gov\-\w+\-\d+$`), "amazonaws.com"},
}

// regionalEndpoint is Secrets Manager's endpoint in region.
func regionalEndpoint(region string) string {
	suffix := "amazonaws.com"
	for _, p := range partitions {
		if p.regions.MatchString(region) {
			suffix = p.suffix
			break
		}
	}
	return "https://secretsmanager." + region + "." + suffix
}

// The error codes retried as the SDK's standard retryer retries them
// (aws-sdk-go-v2 aws/retry/standard.go: DefaultRetryableErrorCodes and
// DefaultThrottleErrorCodes), beside 5xx answers and connection errors.
var retryableCodes = map[string]bool{
	"RequestTimeout": true, "RequestTimeoutException": true,
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "RequestThrottledException": true,
	"TooManyRequestsException": true, "ProvisionedThroughputExceededException": true, "TransactionInProgressException": true,
	"RequestLimitExceeded": true, "BandwidthLimitExceeded": true, "LimitExceededException": true,
	"RequestThrottled": true, "SlowDown": true, "PriorRequestNotComplete": true, "EC2ThrottledException": true,
}

// apiError is an error answer of Secrets Manager: its code
// (ResourceNotFoundException, …), message and HTTP status.
type apiError struct {
	Code, Message string
	Status        int
	// Service and Op name the call; empty: Secrets Manager's
	// GetSecretValue.
	Service, Op string
}

func (e *apiError) Error() string {
	service, op := cmp.Or(e.Service, "Secrets Manager"), cmp.Or(e.Op, "GetSecretValue")
	return fmt.Sprintf("operation error %s: %s: https response error StatusCode: %d, %s: %s", service, op, e.Status, e.Code, e.Message)
}

func (e *apiError) retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || retryableCodes[e.Code]
}

// GetSecretValue reads the value of the version of secretID labelled
// versionStage: its SecretString, or its SecretBinary. A secret or stage
// that does not exist, or a secret scheduled for deletion, is an error
// wrapping ErrSecretNotFound
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
func (c *SecretsManagerClient) GetSecretValue(ctx context.Context, secretID, versionStage string) ([]byte, error) {
	body, err := json.Marshal(struct {
		SecretID     string `json:"SecretId"`
		VersionStage string `json:"VersionStage"`
	}{secretID, versionStage})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	var last error
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		if attempt > 1 {
			pause := time.NewTimer(retryPause(attempt - 1))
			select {
			case <-ctx.Done():
				pause.Stop()
				return nil, fmt.Errorf("get secret value %s: %w (after %w)", versionStage, ctx.Err(), last)
			case <-pause.C:
			}
		}
		value, retry, err := c.attempt(ctx, body, hash)
		if err == nil {
			return value, nil
		}
		var ae *apiError
		if errors.As(err, &ae) && (ae.Code == "ResourceNotFoundException" || ae.Code == "InvalidRequestException") {
			// ResourceNotFoundException: no such secret or no version with
			// this stage. InvalidRequestException: the secret is scheduled
			// for deletion (the only state in which GetSecretValue answers
			// it).
			return nil, fmt.Errorf("%w: %s: %w", ErrSecretNotFound, versionStage, err)
		}
		last = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("get secret value %s: %w", versionStage, last)
}

// attempt is one signed request; retry says whether its failure is worth
// another.
func (c *SecretsManagerClient) attempt(ctx context.Context, body []byte, hash string) (value []byte, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	if err := c.signer.SignHTTP(ctx, c.creds, req, hash, "secretsmanager", c.region, c.now()); err != nil {
		return nil, false, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// A transport failure (a connection refused, reset or timed
		// out; a handshake that failed): worth another attempt, within
		// the fetch's bound, unless the caller gave up.
		return nil, ctx.Err() == nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxSecretAnswer))
	if err != nil {
		return nil, ctx.Err() == nil, fmt.Errorf("operation error Secrets Manager: GetSecretValue: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		ae := &apiError{Status: resp.StatusCode, Code: errorCode(resp.Header.Get("X-Amzn-ErrorType"), raw)}
		var msg struct {
			Message  string `json:"message"`
			MessageU string `json:"Message"`
		}
		_ = json.Unmarshal(raw, &msg)
		ae.Message = msg.Message + msg.MessageU
		return nil, ae.retryable(), ae
	}
	var out struct {
		SecretString *string
		SecretBinary []byte
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, false, fmt.Errorf("operation error Secrets Manager: GetSecretValue: decoding the answer: %w", err)
	}
	switch {
	case out.SecretString != nil:
		return []byte(*out.SecretString), false, nil
	case out.SecretBinary != nil:
		return out.SecretBinary, false, nil
	}
	return nil, false, errors.New("operation error Secrets Manager: GetSecretValue: the version holds no value")
}

// maxSecretAnswer bounds an answer read: a secret's value is at most
// 65,536 bytes, base64 and JSON around it well under 1 MB.
const maxSecretAnswer = 1 << 20

// errorCode is an error answer's code, from its X-Amzn-ErrorType header
// or its body's __type (AWS JSON 1.1: "Code:…" or "prefix#Code").
func errorCode(header string, body []byte) string {
	code := header
	if code == "" {
		var b struct {
			Type string `json:"__type"`
			Code string `json:"code"`
		}
		_ = json.Unmarshal(body, &b)
		code = b.Type + b.Code
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return strings.TrimSpace(code)
}

// smSource reads one secret through a SecretsManagerClient.
type smSource struct {
	client *SecretsManagerClient
	id     string
}

func (s smSource) SecretValue(ctx context.Context, versionStage string) ([]byte, error) {
	return s.client.GetSecretValue(ctx, s.id, versionStage)
}
