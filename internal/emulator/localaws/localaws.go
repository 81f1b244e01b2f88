// Package localaws is the AWS identity the local run pretends to have:
// the Region and account that appear in its ARNs (method ARNs, function
// ARNs, the local secret's ARN) when no other is given, and the
// credentials its endpoints answer. One home, so the local gateway, its
// Lambda functions, its Secrets Manager and its control endpoint agree.
package localaws

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"strings"
)

const (
	// Region is the default Region of the local run.
	Region = "us-east-1"
	// AccountID is the account of every local ARN: AWS's documentation
	// example account, which is no real one.
	AccountID = "123456789012"
)

// NewCredentials are a new access key id and secret for one endpoint of
// one run: an id shaped as AWS's (the SDKs check nothing else), 20
// characters, and a 40-character secret.
func NewCredentials() (id, secret string) {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	s := strings.ToUpper(hex.EncodeToString(b))
	return "TGLOCAL" + s[:13], s[13:53]
}

// AccessKeyID is the access key a SigV4-signed request names:
// "AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request, …"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html),
// or "". The local endpoints check only the id: it is new for each run
// and held only by those it is given, and a loopback request can be seen
// only by its own user or root.
func AccessKeyID(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(cred, "/")
	return id
}

// ControlCredentials are the credentials the control endpoint of a local
// run answers, as ControlCredentialsFile holds them.
type ControlCredentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// Endpoint is the control endpoint's URL, and APIID and Stage the
	// API and stage it serves, so that a command given only the file
	// (tollkeys usage -local) finds them.
	Endpoint string `json:"endpoint,omitempty"`
	APIID    string `json:"apiId,omitempty"`
	Stage    string `json:"stage,omitempty"`
}

// ControlCredentialsFile is where a local run with state directory
// stateDir writes its control endpoint's credentials (0600), for
// `tollkeys refresh -credentials`.
func ControlCredentialsFile(stateDir string) string {
	return filepath.Join(stateDir, "control.json")
}
