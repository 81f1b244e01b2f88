// Package localsm is a minimal AWS Secrets Manager endpoint for the local
// gateway: it answers GetSecretValue, by SecretId and VersionStage or
// VersionId, for one secret whose value is a keyring file, so the real
// authorizer binary reads its keys through the real AWS SDK with no AWS
// account.
//
// It speaks the AWS JSON 1.1 protocol of
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
// and answers errors the way the SDK decodes them (a "__type" and a
// "message"). Requests are not authenticated: serve it on 127.0.0.1 only.
//
// The file is read again on every request. When its content changes to a
// valid keyring, that content becomes a new version labelled AWSCURRENT,
// and the version it replaces becomes AWSPREVIOUS, as put-secret-value does
// on AWS. The authorizer reads AWSCURRENT only, so a key removed from the
// file stops at the authorizer's next refresh. A change to an invalid
// keyring is refused and logged, and the last valid version stays current.
package localsm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/poll"
	"tollgate/internal/reqid"
)

// Store is one secret backed by a keyring file, and its HTTP endpoint.
type Store struct {
	name, arn, path string
	log             *slog.Logger
	// AccessKeyID, when set before serving, is the only access key whose
	// requests are answered.
	AccessKeyID string
	now         func() time.Time // for tests

	mu       sync.Mutex
	versions []version // newest first; at most AWSCURRENT and AWSPREVIOUS
	last     []byte    // the file's content when last read
	warn     func(authorizer.Keyring) []string
	onChange func(authorizer.Keyring)
}

// SetWarn sets what the store says of a valid keyring that will not work
// as written (on an HTTP API, a key limited to part of an API route): each
// of warn's messages is logged as a warning, for the current keyring now
// and for each change taken from then on.
func (s *Store) SetWarn(warn func(authorizer.Keyring) []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warn = warn
	s.notify(s.versions[0].value, true, false)
}

// SetOnChange sets what is told the keyring: the current one now, and
// each change taken from then on (the local gateway's API keys of the
// usage plans are made from it).
func (s *Store) SetOnChange(fn func(authorizer.Keyring)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChange = fn
	s.notify(s.versions[0].value, false, true)
}

// notify logs warn's messages of keyring and tells onChange of it, as
// asked. The caller holds s.mu.
func (s *Store) notify(keyring []byte, warn, change bool) {
	if (!warn || s.warn == nil) && (!change || s.onChange == nil) {
		return
	}
	kr, err := authorizer.ParseKeyring(keyring)
	if err != nil {
		return // taken versions are valid
	}
	if warn && s.warn != nil {
		for _, w := range s.warn(kr) {
			s.log.Warn("keyring: "+w, "path", s.path)
		}
	}
	if change && s.onChange != nil {
		s.onChange(kr)
	}
}

type version struct {
	id      string
	value   []byte
	stages  []string
	created time.Time
}

// Open reads the keyring file at path and returns the secret named name
// (its ARN is made up in region and account). The file must hold a valid
// keyring. log receives rotations and refused changes; nil discards them.
func Open(name, path, region, account string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		name: name,
		arn:  fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, account, name, reqid.New()[:6]),
		path: path,
		log:  log,
		now:  time.Now,
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring file: %w", err)
	}
	if err := checkKeyring(b); err != nil {
		return nil, fmt.Errorf("keyring file %s: %w", path, err)
	}
	s.last = b
	s.versions = []version{{id: reqid.New(), value: b, stages: []string{authorizer.StageCurrent}, created: s.now()}}
	return s, nil
}

// ARN is the secret's ARN.
func (s *Store) ARN() string { return s.arn }

// Watch reads the file every interval until ctx ends, so that a change is
// taken, or refused and logged, when it is made rather than at the next
// read of the secret: a broken edit is reported at once.
func (s *Store) Watch(ctx context.Context, every time.Duration) {
	poll.Every(ctx, every, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reload()
		return true
	})
}

// reload makes the file's content current if it changed to a valid keyring.
// The caller holds s.mu.
func (s *Store) reload() {
	b, err := os.ReadFile(s.path)
	if err != nil {
		s.log.Error("keyring file unreadable; serving the last version", "path", s.path, "error", err)
		return
	}
	if bytes.Equal(b, s.last) {
		return
	}
	s.last = b
	if err := checkKeyring(b); err != nil {
		s.log.Error("keyring file changed to an invalid keyring; serving the last valid version", "path", s.path, "error", err)
		return
	}
	cur := s.versions[0]
	cur.stages = []string{authorizer.StagePrevious}
	s.versions = []version{{id: reqid.New(), value: b, stages: []string{authorizer.StageCurrent}, created: s.now()}, cur}
	s.log.Info("keyring rotated", "secret", s.name, "versionId", s.versions[0].id, "previousVersionId", cur.id)
	s.notify(b, true, true)
}

type request struct {
	SecretID     string `json:"SecretId"`
	VersionStage string `json:"VersionStage"`
	VersionID    string `json:"VersionId"`
}

type response struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  string   `json:"SecretString"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   float64  `json:"CreatedDate"`
}

// ServeHTTP answers Secrets Manager API calls: GetSecretValue, or an error.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.AccessKeyID != "" && localaws.AccessKeyID(r) != s.AccessKeyID {
		// What AWS answers a request signed with an unknown access key.
		apiError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if r.Method != http.MethodPost {
		apiError(w, http.StatusMethodNotAllowed, "InvalidRequestException", "Secrets Manager takes POST requests.")
		return
	}
	target := r.Header.Get("X-Amz-Target")
	if target != "secretsmanager.GetSecretValue" {
		apiError(w, http.StatusBadRequest, "UnknownOperationException", "The local endpoint answers only GetSecretValue, not "+strings.TrimPrefix(target, "secretsmanager.")+".")
		return
	}
	var req request
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "SerializationException", "The request body is not valid JSON.")
		return
	}
	if req.SecretID != s.name && req.SecretID != s.arn {
		apiError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	if req.VersionStage == "" && req.VersionID == "" {
		req.VersionStage = authorizer.StageCurrent
	}
	s.mu.Lock()
	s.reload()
	v, err := s.find(req)
	s.mu.Unlock()
	if err != nil {
		apiError(w, http.StatusBadRequest, "ResourceNotFoundException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", reqid.New())
	_ = json.NewEncoder(w).Encode(response{
		ARN:           s.arn,
		Name:          s.name,
		VersionID:     v.id,
		SecretString:  string(v.value),
		VersionStages: v.stages,
		CreatedDate:   float64(v.created.UnixMilli()) / 1000,
	})
}

func (s *Store) find(req request) (version, error) {
	for _, v := range s.versions {
		if req.VersionID != "" && v.id != req.VersionID {
			continue
		}
		if req.VersionStage != "" && v.stages[0] != req.VersionStage {
			continue
		}
		return v, nil
	}
	if req.VersionStage != "" {
		return version{}, errors.New("Secrets Manager can't find the specified secret value for staging label: " + req.VersionStage)
	}
	return version{}, errors.New("Secrets Manager can't find the specified secret value for VersionId: " + req.VersionID)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// checkKeyring refuses what the secret would not take: a keyring the
// authorizer refuses, or one past the bytes a secret holds (AWS refuses
// that put: authorizer.MaxKeyringBytes).
func checkKeyring(b []byte) error {
	kr, err := authorizer.ParseKeyring(b)
	if err != nil {
		return err
	}
	return authorizer.CheckKeyringSize(len(b), len(kr.Keys))
}
