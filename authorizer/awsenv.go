package authorizer

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The AWS variables SecretsManagerFromEnv reads: those Lambda sets in every
// function's environment
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
// and the SDKs' standard endpoint overrides
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
const (
	EnvAWSRegion           = "AWS_REGION"
	EnvAWSDefaultRegion    = "AWS_DEFAULT_REGION" // when AWS_REGION is unset
	EnvAWSAccessKeyID      = "AWS_ACCESS_KEY_ID"
	EnvAWSSecretAccessKey  = "AWS_SECRET_ACCESS_KEY"
	EnvAWSSessionToken     = "AWS_SESSION_TOKEN"
	EnvAWSEndpoint         = "AWS_ENDPOINT_URL_SECRETS_MANAGER"
	EnvAWSEndpointAll      = "AWS_ENDPOINT_URL"                    // when AWS_ENDPOINT_URL_SECRETS_MANAGER is unset
	EnvAWSEndpointDynamoDB = "AWS_ENDPOINT_URL_DYNAMODB"           // the key table's endpoint
	EnvAWSIgnoreEndpoints  = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" // "true" ignores both
)

// Retries of the client SecretsManagerFromEnv returns. An attempt that
// fails in a way worth retrying (a 5xx, throttling, a timeout, a dropped
// or refused connection) is tried again after a pause of 50-100 ms, then
// 100-200 ms, at most MaxAttempts times in all. An attempt whose answer
// does not begin within AttemptTimeout of its request is cut off; a new
// connection's TCP and TLS handshakes have HandshakeTimeout of their own,
// since at 128 MB (a fraction of a CPU) a first handshake can take longer
// than a warm answer would. The SDK's defaults (pauses of up to 2 and 4
// seconds, no attempt timeout) would spend a whole fetch on one hung
// connection or one pause. Config.FetchTimeout still bounds the whole
// fetch, retries included.
const (
	MaxAttempts      = 3
	AttemptTimeout   = time.Second
	HandshakeTimeout = 2500 * time.Millisecond
)

// retryPause is the pause before retry n (1 for the first): 100 ms
// doubled for each retry after it, half of it fixed and half random, so
// that many cold starts retrying together spread out.
func retryPause(n int) time.Duration {
	d := 100 * time.Millisecond << min(max(n-1, 0), 4)
	return d/2 + rand.N(d/2)
}

// SecretsManagerFromEnv returns a Secrets Manager client
// (SecretsManagerClient) configured only from the variables Lambda gives a
// function: the Region, and the execution role's credentials. An endpoint URL variable points it at
// another endpoint, such as an emulator.
//
// It does not read shared config files, SSO or instance metadata, as
// config.LoadDefaultConfig would: a Lambda function never needs them, and
// leaving them out keeps about 1.9 MB (STS, SSO and their clients) out of
// the authorizer's linux/arm64 binary (9.1 MB before) and out of its cold
// start. A missing Region or missing credentials is an error that names
// the variable. It trusts the roots EnvTLSRoots chooses: by default AWS's
// own, then the system's (tlsroots.go).
func SecretsManagerFromEnv(getenv func(string) string) (*SecretsManagerClient, error) {
	region := cmp.Or(getenv(EnvAWSRegion), getenv(EnvAWSDefaultRegion))
	if region == "" {
		return nil, fmt.Errorf("authorizer: %s is required (Lambda sets it)", EnvAWSRegion)
	}
	id, secret := getenv(EnvAWSAccessKeyID), getenv(EnvAWSSecretAccessKey)
	if id == "" || secret == "" {
		return nil, fmt.Errorf("authorizer: %s and %s are required (Lambda sets them from the execution role)", EnvAWSAccessKeyID, EnvAWSSecretAccessKey)
	}
	roots, err := rootsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	// The SDK's default transport's settings (aws-sdk-go-v2
	// aws/transport/http/client.go), with the timeouts above.
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: HandshakeTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   HandshakeTimeout,
		ResponseHeaderTimeout: AttemptTimeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if roots != nil {
		roots.apply(t, HandshakeTimeout)
	}
	c := &SecretsManagerClient{
		endpoint: regionalEndpoint(region),
		region:   region,
		creds:    aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv(EnvAWSSessionToken), Source: "Lambda environment"},
		signer:   v4.NewSigner(),
		http:     &http.Client{Transport: t},
		now:      time.Now,
	}
	endpoint, err := endpointOverride(getenv, EnvAWSEndpoint)
	if err != nil {
		return nil, err
	}
	c.endpoint = cmp.Or(endpoint, c.endpoint)
	return c, nil
}

// NewFromEnv returns the authorizer a Lambda function runs: FromEnv's
// settings, with keys read from the secret through SecretsManagerFromEnv.
// It makes no call; Load fetches the keys.
func NewFromEnv(getenv func(string) string) (*Authorizer, error) {
	secretID, cfg, err := FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	client, err := SecretsManagerFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if secretID != "" {
		cfg.Source = SecretsManager(client, secretID)
	}
	if cfg.KeyTable != nil {
		if cfg.KeyTable.Client, err = dynamoDBFromEnv(client, getenv); err != nil {
			return nil, err
		}
	}
	return New(cfg)
}

// dynamoDBFromEnv is the key table's client, made as sm is (its Region,
// credentials and transport): DynamoDB's regional endpoint
// (https://dynamodb.REGION.SUFFIX, the partitions of regionalEndpoint), or
// AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL.
func dynamoDBFromEnv(sm *SecretsManagerClient, getenv func(string) string) (*DynamoDBClient, error) {
	endpoint, err := endpointOverride(getenv, EnvAWSEndpointDynamoDB)
	if err != nil {
		return nil, err
	}
	endpoint = cmp.Or(endpoint, DynamoDBEndpoint(sm.region))
	return &DynamoDBClient{endpoint: endpoint, region: sm.region, creds: sm.creds, signer: sm.signer, http: sm.http, now: sm.now}, nil
}

// DynamoDBEndpoint is DynamoDB's endpoint in region: https://dynamodb.REGION.SUFFIX,
// with the suffix of the region's partition (regionalEndpoint's).
func DynamoDBEndpoint(region string) string {
	return strings.Replace(regionalEndpoint(region), "https://secretsmanager.", "https://dynamodb.", 1)
}

// endpointOverride is the endpoint the SDKs' variables give a service:
// its own variable (serviceVar), else AWS_ENDPOINT_URL, as a URL with a
// path; "" when neither is set, or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// is true.
func endpointOverride(getenv func(string) string, serviceVar string) (string, error) {
	if strings.EqualFold(getenv(EnvAWSIgnoreEndpoints), "true") {
		return "", nil
	}
	name, v := serviceVar, getenv(serviceVar)
	if v == "" {
		name, v = EnvAWSEndpointAll, getenv(EnvAWSEndpointAll)
	}
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("authorizer: %s=%q: want an http or https URL", name, v)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}
