package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tollgate/api"
	"tollgate/internal/emulator/local"
)

func TestParseFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{"-addr", "127.0.0.1:9000", "-ttl", "0", "-authorizer-type", "request", "-secrets-endpoint", "http://127.0.0.1:5000", "-secret-id", "s", "-quiet"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || cfg.TTL == nil || *cfg.TTL != 0 || cfg.AuthorizerType != api.Request ||
		cfg.SecretsEndpoint != "http://127.0.0.1:5000" || cfg.SecretID != "s" || cfg.AccessLog != nil {
		t.Errorf("parseFlags() = %+v", cfg)
	}
	cfg, _, err = parseFlags(nil, io.Discard)
	if err != nil || cfg.TTL != nil || cfg.AuthorizerType != "" || cfg.Addr != "127.0.0.1:8080" || cfg.AccessLog == nil {
		t.Errorf("parseFlags(nil) = %+v, %v; want the defaults, logs on", cfg, err)
	}
	if cfg, _, _ := parseFlags([]string{"-ttl", "90s"}, io.Discard); cfg.TTL == nil || *cfg.TTL != 90*time.Second {
		t.Errorf("-ttl 90s = %v", cfg.TTL)
	}
	if cfg.Definition != nil || cfg.CORSOrigin != "" {
		t.Error("a Definition or origin without -cors-origin: want the API file as it is")
	}
	cfg, _, err = parseFlags([]string{"-cors-origin", "http://localhost:3000"}, io.Discard)
	if err != nil || cfg.CORSOrigin != "http://localhost:3000" {
		t.Errorf("-cors-origin: %q, %v", cfg.CORSOrigin, err)
	}
	def, err := cfg.API()
	if err != nil || def.Response(api.AccessDenied).Headers["Access-Control-Allow-Origin"] != "http://localhost:3000" {
		t.Errorf("-cors-origin: %v; want the API allowing the origin", err)
	}
	// Issue 16: the key refresh can be shortened, so a rotation is tried
	// in seconds.
	if cfg, _, err := parseFlags([]string{"-key-ttl", "2s"}, io.Discard); err != nil || cfg.KeyTTL != 2*time.Second {
		t.Errorf("-key-ttl 2s = %v, %v", cfg.KeyTTL, err)
	}
	if cfg, _, _ := parseFlags([]string{"-api", "mine.yaml"}, io.Discard); cfg.APIFile != "mine.yaml" {
		t.Errorf("-api mine.yaml = %q", cfg.APIFile)
	}
}

// Issue 16: asking for help is not a failure: -h prints the flags and
// exits 0 (main exits 1 only when run returns an error).
func TestHelpIsNotAnError(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var out, errOut bytes.Buffer
		if err := run([]string{arg}, &out, &errOut); err != nil {
			t.Errorf("run(%s) = %v, want nil", arg, err)
		}
		if !strings.Contains(errOut.String(), "-key-ttl") || strings.Contains(errOut.String(), "help requested") {
			t.Errorf("run(%s) printed:\n%s", arg, errOut.String())
		}
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-ttl", "soon"}, `-ttl "soon"`},
		{[]string{"-authorizer-type", "JWT"}, `-authorizer-type "JWT": want TOKEN or REQUEST`},
		{[]string{"extra"}, "unexpected arguments: extra"},
		{[]string{"-cors-origin", "localhost:3000"}, "-cors-origin"},
		{[]string{"-nope"}, "flag provided but not defined"},
	} {
		_, _, err := parseFlags(tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseFlags(%q) = %v, want an error naming %q", tt.args, err, tt.want)
		}
	}
}

// A configuration error stops before anything is built or started.
func TestRunStopsOnConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-ttl", "2h", "-addr", "127.0.0.1:0"}, "result TTL 2h0m0s"},
		{[]string{"-keys", "k.json", "-secrets-endpoint", "aws", "-addr", "127.0.0.1:0"}, "cannot be used with another endpoint"},
		{[]string{"-secrets-endpoint", "localhost:4566", "-addr", "127.0.0.1:0"}, `want "aws" or an http(s) URL`},
	} {
		var out strings.Builder
		err := run(tt.args, &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error naming %q", tt.args, err, tt.want)
		}
		if strings.Contains(out.String(), "Building") {
			t.Errorf("run(%q) started building before refusing its configuration", tt.args)
		}
	}
}

// -openapi prints the document the local gateway serves, which is the
// one the deploy imports (with stand-in ARNs), shaped by the other flags.
func TestPrintOpenAPI(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-openapi", "-authorizer-type", "REQUEST", "-ttl", "0"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	def := api.Default()
	def.Authorizer.Type, def.Authorizer.ValidationRegex, def.Authorizer.ResultTTL = api.Request, "", 0
	want, err := def.Document(api.DocumentOptions{IntegrationURI: api.LocalURI})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want)+"\n" {
		t.Errorf("-openapi printed\n%s\nwant\n%s", out.String(), want)
	}
}

// docs/running-locally.md's flag table, the one place the flags are described, has a row
// for every flag and no other.
func TestFlagTable(t *testing.T) {
	var usage strings.Builder
	if _, _, err := parseFlags([]string{"-h"}, &usage); err == nil {
		t.Fatal("-h did not stop")
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(usage.String(), -1) {
		flags = append(flags, m[1])
	}
	readme, err := os.ReadFile("../../../../docs/running-locally.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, m := range regexp.MustCompile("(?m)^\\| `-([a-z-]+)[ `]").FindAllStringSubmatch(string(readme), -1) {
		rows = append(rows, m[1])
	}
	slices.Sort(flags)
	slices.Sort(rows)
	if len(flags) < 5 || !slices.Equal(flags, rows) {
		t.Errorf("docs/running-locally.md's flag table has %q, cmd/local defines %q", rows, flags)
	}
}

// -jwt takes the settings inline or from a file; -jwt-local turns the
// local issuer on; mint signs a token from the issuer a run keeps in its
// state directory, and says how to start one when there is none.
func TestJWTFlagsAndMint(t *testing.T) {
	settings := `{"scopeRoutes":{"greet":["GET /hello"]}}`
	file := filepath.Join(t.TempDir(), "jwt.json")
	if err := os.WriteFile(file, []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{settings, file} {
		cfg, _, err := parseFlags([]string{"-jwt", v, "-jwt-local"}, io.Discard)
		if err != nil || cfg.JWT != settings || !cfg.JWTLocal {
			t.Errorf("-jwt %s: %+v, %v", v, cfg, err)
		}
	}
	if _, _, err := parseFlags([]string{"-jwt", filepath.Join(t.TempDir(), "missing.json")}, io.Discard); err == nil || !strings.Contains(err.Error(), "-jwt") {
		t.Errorf("-jwt with a missing file: %v", err)
	}

	state := t.TempDir()
	var out, errs strings.Builder
	if err := run([]string{"mint", "-state", state, "-sub", "alice"}, &out, &errs); err == nil || !strings.Contains(err.Error(), "go run ./cmd/local -jwt-local") {
		t.Fatalf("mint with no issuer: %v", err)
	}
	if _, err := local.Start(t.Context(), local.Config{Addr: "127.0.0.1:0", StateDir: state, JWTLocal: true, JWT: `{"algorithms":["HS256"]}`,
		BinDir: state, Getenv: func(string) string { return "" }}); err == nil {
		t.Fatal("Start with HS256 succeeded")
	}
	// The refused start above kept the issuer it created: mint reads it.
	if err := run([]string{"mint", "-state", state, "-sub", "alice", "-scope", "greet", "-claim", "tenant=acme", "-ttl", "5m"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out.String())
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("mint printed %q", tok)
	}
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(claims, &c); err != nil || c["sub"] != "alice" || c["scope"] != "greet" || c["tenant"] != "acme" ||
		c["iss"] != local.LocalIssuer || c["aud"] != local.LocalAudience || c["exp"].(float64)-c["iat"].(float64) != 300 {
		t.Errorf("claims %v, %v", c, err)
	}
	for _, bad := range [][]string{{"mint", "-state", state}, {"mint", "-state", state, "-sub", "a", "-ttl", "-1s"}, {"mint", "-state", state, "-sub", "a", "-claim", "novalue"}} {
		if err := run(bad, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
