// Package local runs tollgate on this machine: it builds the Lambda
// functions for the host, runs them as processes behind the local Lambda
// Runtime API (lambdalocal), serves the API through the local API Gateway
// (gateway) from the OpenAPI document the deploy imports (Served) and,
// unless told to use another endpoint, serves the keyring
// through a local Secrets Manager endpoint (localsm). cmd/local parses
// flags and signals and hands off to Start; the end-to-end tests use the
// same Start on port 0.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/handler"
	"tollgate/internal/emulator/gateway"
	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/emulator/localsm"
	"tollgate/internal/jwtissuer"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/launch"
)

// The pool's errors are what the gateway reads a function's failure from.
var _ gateway.FunctionError = (*lambdalocal.FunctionError)(nil)

// awsEndpoint as Config.SecretsEndpoint means real AWS Secrets Manager,
// with the caller's AWS credentials.
const awsEndpoint = "aws"

// keyringWatch is how often the local keyring file is read for changes.
const keyringWatch = 500 * time.Millisecond

// DefaultSecretID is the secret's name when none is given.
const DefaultSecretID = "tollgate/local/keyring"

// Config configures a local run. Zero values mean the defaults given.
type Config struct {
	// Addr is where the API listens; default 127.0.0.1:8080.
	Addr string
	// Definition is the API. When nil, it is read from APIFile, or from
	// api.yaml at ModuleDir when there is one, else api.Default().
	Definition *api.Definition
	// APIFile is the API file to serve (api.ParseFile's format).
	APIFile string
	// CORSOrigin, when set, lets browser pages from this origin call the
	// API (api.Definition.AllowOrigin).
	CORSOrigin string
	// Watch rebuilds a function when its source changes and swaps the new
	// build in; requests in flight finish on the old one (see watch.go).
	Watch bool
	// KeyTTL, when not zero, is how long the authorizer keeps keys before
	// reading the secret again (its TOLLGATE_KEY_TTL; default 5m), so that
	// a rotation can be tried in seconds.
	KeyTTL time.Duration
	// TTL, when not nil, replaces the authorizer's result TTL.
	TTL *time.Duration
	// AuthorizerType, when not empty, replaces the authorizer's type; a
	// REQUEST authorizer has no validation regex.
	AuthorizerType api.AuthorizerType
	// APIType api.HTTP serves the API as an HTTP API (api.Definition.UseHTTP):
	// a REQUEST authorizer (payload 2.0, simple responses) whose answers
	// are cached by route, no gateway responses, HTTP API CORS.
	APIType api.APIType
	// ModuleDir is the Go module to build in (tollgate, or one that
	// requires it); default: found from the working directory.
	ModuleDir string
	// BinDir holds prebuilt binaries, <function>/bootstrap; when empty,
	// they are built into StateDir/bin.
	BinDir string
	// StateDir keeps the generated keyring and the binaries; default
	// ModuleDir/.tollgate (git-ignored).
	StateDir string
	// KeysFile is the keyring served by the local Secrets Manager
	// endpoint; default StateDir/keyring.json, generated the first time.
	KeysFile string
	// SecretsEndpoint is "" for the local endpoint, awsEndpoint for AWS
	// Secrets Manager, or the URL of another endpoint (such as moto).
	SecretsEndpoint string
	// SecretID is the secret's name or ARN; default DefaultSecretID.
	SecretID string
	// Region is the AWS region; default AWS_REGION, else us-east-1.
	Region string
	// JWT, when set, is the authorizer's JWT settings
	// (authorizer.ParseJWTConfig's JSON): JWTs from that issuer are
	// accepted beside keys.
	JWT string
	// JWTLocal serves a local issuer: its JWKS on the control endpoint
	// and its key in StateDir for Mint. JWT's issuer, JWKS URL and
	// audiences default to it.
	JWTLocal bool
	// AuthorizerEnv is added to the authorizer's environment (such as
	// TOLLGATE_KEY_TTL).
	AuthorizerEnv map[string]string
	// Out receives messages for the user: the URL, the curl lines and, once,
	// a generated key. AccessLog receives the gateway's access log and
	// FunctionLogs the functions' output. nil discards each.
	Out, AccessLog, FunctionLogs io.Writer
	// Getenv reads the environment: AWS_REGION, and the credentials
	// passed to the authorizer with another SecretsEndpoint URL; default
	// os.Getenv. With awsEndpoint the SDK's credential chain reads the
	// process environment and the AWS config files itself.
	Getenv func(string) string
}

// Main is a running local tollgate.
type Main struct {
	URL string // the API's base URL, like http://127.0.0.1:8080
	// Document is the OpenAPI document the gateway serves: the one the
	// deploy imports, with local stand-ins for the functions' ARNs.
	Document []byte
	Gateway  *gateway.Gateway
	Pools    map[string]*lambdalocal.Pool // by function name
	Store    *localsm.Store               // nil with another endpoint
	// ControlURL is the endpoint that answers the AWS calls of
	// `tollkeys refresh` (see control.go).
	ControlURL string

	def     api.Definition
	env     map[string]map[string]string // each function's environment
	servers []*http.Server
	keyHint string                // where protected routes' keys come from, when not generated here
	jwt     *authorizer.JWTConfig // the authorizer's JWT settings, nil for none
	issuer  *jwtissuer.Issuer     // the local issuer, with Config.JWTLocal
	mintCmd string                // the command that mints a token from it
	// issuerState is the StateDir the local issuer's key is kept in.
	issuerState string
	// controlID is the access key the control endpoint answers, written
	// with its secret to controlFile (localaws.ControlCredentialsFile).
	controlID   string
	controlFile string
	stop        context.CancelFunc // ends the watches (keyring file, -watch)
	bg          context.Context    // the watches' context, ended by Close
}

// Start builds, starts and serves everything, and returns when the API is
// listening. On error, everything started is stopped again. It is long
// because it starts the parts in the order they depend on each other
// (definition, listener, keyring and Secrets Manager, binaries, functions,
// gateway, control endpoint), read top to bottom, each failure undoing
// what came before.
func Start(ctx context.Context, cfg Config) (_ *Main, err error) {
	m := &Main{Pools: map[string]*lambdalocal.Pool{}}
	m.bg, m.stop = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	if err := fill(&cfg); err != nil {
		return nil, err
	}
	base, err := cfg.API()
	if err != nil {
		return nil, err
	}
	def, doc, err := Served(base)
	if err != nil {
		return nil, err
	}
	m.def, m.Document = def, doc

	// Listen first: a busy port is the likeliest mistake, and the
	// quickest to report.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	m.URL = "http://" + ln.Addr().String()

	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	m.ControlURL = "http://" + ctl.Addr().String()
	closeListeners := func() { _, _ = ln.Close(), ctl.Close() }
	if err := m.writeControlCredentials(cfg.StateDir); err != nil {
		closeListeners()
		return nil, fmt.Errorf("control endpoint credentials: %w", err)
	}

	authEnv, err := m.secrets(ctx, cfg, &def)
	if err != nil {
		closeListeners()
		return nil, err
	}
	if cfg.JWTLocal {
		if m.issuer, err = localIssuer(cfg.StateDir); err != nil {
			closeListeners()
			return nil, fmt.Errorf("local issuer: %w", err)
		}
		m.issuerState = cfg.StateDir
		m.mintCmd = "go run ./cmd/local mint -sub alice"
		if cfg.ModuleDir == "" || cfg.StateDir != filepath.Join(cfg.ModuleDir, ".tollgate") {
			m.mintCmd += " -state " + cfg.StateDir
		}
	}
	if cfg.JWT != "" || cfg.JWTLocal {
		if m.jwt, err = jwtSettings(cfg, m.ControlURL); err != nil {
			closeListeners()
			return nil, err
		}
		env, err := json.Marshal(m.jwt)
		if err != nil {
			closeListeners()
			return nil, err
		}
		authEnv[authorizer.EnvJWT] = string(env)
	}
	bins, err := binaries(ctx, cfg, &def)
	if err != nil {
		closeListeners()
		return nil, err
	}
	invokers := map[string]gateway.Invoker{}
	m.env = map[string]map[string]string{}
	for name, f := range def.Functions {
		// The function's own variables, then what each Lambda package
		// says it needs, as the deploy sets them.
		env := maps.Clone(f.Env)
		if env == nil {
			env = map[string]string{}
		}
		if def.AnswersRoutes(name) {
			maps.Copy(env, handler.Env(def.AllowedOrigin))
		}
		if name == def.Authorizer.Function {
			maps.Copy(env, authEnv)
		}
		m.env[name] = env
		p, err := lambdalocal.NewPool(lambdalocal.Function{
			Name:     name,
			Binary:   bins[name],
			Env:      env,
			Timeout:  f.Timeout,
			MemoryMB: f.MemoryMB,
			Region:   cfg.Region,
			Logs:     cfg.FunctionLogs,
		})
		if err != nil {
			closeListeners()
			return nil, err
		}
		m.Pools[name] = p
		invokers[name] = p
	}
	gw := gateway.Config{
		Definition: def,
		Functions:  invokers,
		Region:     cfg.Region,
		AccessLog:  cfg.AccessLog,
	}
	if def.HasJWTRoutes() {
		// The JWT routes' authorizer is API Gateway's, emulated with the
		// authorizer's JWT code and the settings' JWKS URL (API Gateway
		// finds the keys from the issuer's OpenID configuration).
		if gw.JWT, err = gatewayJWT(def.JWT, m.jwt, cfg.FunctionLogs); err != nil {
			closeListeners()
			return nil, err
		}
	}
	m.Gateway, err = gateway.New(gw)
	if err != nil {
		closeListeners()
		return nil, err
	}
	m.serve(ctl, m.control())
	m.serve(ln, m.Gateway)
	if cfg.Watch {
		w, err := newWatcher(ctx, cfg, def.Functions)
		if err != nil {
			return nil, err
		}
		go w.run(m.bg, m.Pools)
	}
	return m, nil
}

// API is the Definition cfg serves: cfg.Definition; else the API file
// (cfg.APIFile, or api.yaml at the module's root when there is one); else
// api.Default(); with cfg's result TTL, authorizer type and CORS origin.
func (cfg Config) API() (api.Definition, error) {
	def := api.Default()
	file := cfg.APIFile
	if file == "" && cfg.Definition == nil {
		dir := cfg.ModuleDir
		if dir == "" {
			if wd, err := os.Getwd(); err == nil {
				dir, _ = lambdabuild.ModuleDir(wd)
			}
		}
		if p := filepath.Join(dir, api.FileName); dir != "" && fileExists(p) {
			file = p
		}
	}
	switch {
	case cfg.Definition != nil:
		def = *cfg.Definition
	case file != "":
		var err error
		if def, err = api.LoadFile(file); err != nil {
			return def, err
		}
	}
	if cfg.TTL != nil {
		def.Authorizer.ResultTTL = *cfg.TTL
	}
	if cfg.AuthorizerType != "" {
		def.Authorizer.Type = cfg.AuthorizerType
		if cfg.AuthorizerType == api.Request {
			def.Authorizer.ValidationRegex = ""
		}
	}
	if cfg.APIType == api.HTTP {
		def.UseHTTP()
	}
	if cfg.CORSOrigin != "" {
		if err := def.AllowOrigin(cfg.CORSOrigin); err != nil {
			return def, fmt.Errorf("CORS origin: %w", err)
		}
	}
	if def.HasJWTRoutes() {
		// API Gateway's JWT authorizer, for an HTTP API, with the issuer
		// and audiences of the JWT settings.
		switch {
		case !def.IsHTTP():
			return def, errors.New("the API has routes with auth: jwt, API Gateway's JWT authorizer, which HTTP APIs have: add -api-type http")
		case cfg.JWT == "" && !cfg.JWTLocal:
			return def, errors.New("the API has routes with auth: jwt: give the JWT authorizer's issuer and audiences with -jwt, or try them with -jwt-local")
		}
		issuer, audiences := jwtIdentity(cfg)
		def.JWT = &api.JWTAuthorizer{Issuer: issuer, Audiences: audiences}
	}
	return def, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Served is what the local gateway serves for def: its OpenAPI document
// (api.Definition.Document, as `pulumi up` deploys it, with
// api.LocalURI for the functions' ARNs), and def with the routes, the
// authorizer and the gateway responses read back from that document, so
// that what runs locally is what the document deploys. The functions,
// stage, access log and route throttles, which the document does not hold,
// are def's.
func Served(def api.Definition) (api.Definition, []byte, error) {
	doc, err := def.Document(api.DocumentOptions{IntegrationURI: api.LocalURI})
	if err != nil {
		return def, nil, err
	}
	read, err := api.ParseDocument(doc, api.LocalFunction)
	if err != nil {
		return def, nil, err
	}
	// Route throttles are the stage's method settings, not part of the
	// document: they are def's.
	for i, r := range read.Routes {
		for _, mine := range def.Routes {
			if mine.Method == r.Method && mine.Path == r.Path {
				read.Routes[i].Throttle = mine.Throttle
			}
		}
	}
	def.Routes, def.Responses, def.BinaryMediaTypes, def.Type = read.Routes, read.Responses, read.BinaryMediaTypes, read.Type
	if read.Authorizer.Function != "" {
		def.Authorizer = read.Authorizer
	}
	return def, doc, def.Validate()
}

func fill(cfg *Config) error {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.Region == "" {
		cfg.Region = cfg.Getenv("AWS_REGION")
	}
	if cfg.Region == "" {
		cfg.Region = localaws.Region
	}
	if cfg.SecretID == "" {
		cfg.SecretID = DefaultSecretID
	}
	for _, w := range []*io.Writer{&cfg.Out, &cfg.AccessLog, &cfg.FunctionLogs} {
		if *w == nil {
			*w = io.Discard
		}
	}
	if cfg.Watch && cfg.BinDir != "" {
		return errors.New("watching rebuilds the functions from source; it cannot be used with prebuilt binaries")
	}
	if cfg.SecretsEndpoint != "" && cfg.KeysFile != "" {
		return errors.New("a keys file is served by the local Secrets Manager endpoint; it cannot be used with another endpoint")
	}
	if e := cfg.SecretsEndpoint; e != "" && e != awsEndpoint && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
		return fmt.Errorf("secrets endpoint %q: want %q or an http(s) URL", e, awsEndpoint)
	}
	if cfg.ModuleDir == "" && (cfg.BinDir == "" || cfg.StateDir == "") {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if cfg.ModuleDir, err = lambdabuild.ModuleDir(wd); err != nil {
			return err
		}
	}
	if cfg.StateDir == "" {
		cfg.StateDir = filepath.Join(cfg.ModuleDir, ".tollgate")
	}
	return nil
}

// binaries builds the functions for this host, or finds them in BinDir.
// Each build is announced and timed: a first run compiles the AWS SDK and
// takes a while, and the user should see what it is doing.
func binaries(ctx context.Context, cfg Config, def *api.Definition) (map[string]string, error) {
	bins := map[string]string{}
	if cfg.BinDir != "" {
		for name := range def.Functions {
			bins[name] = filepath.Join(cfg.BinDir, name, "bootstrap")
		}
		return bins, nil
	}
	dir := filepath.Join(cfg.StateDir, "bin")
	for _, name := range slices.Sorted(maps.Keys(def.Functions)) {
		pkg := def.Functions[name].Package
		_, missing := os.Stat(filepath.Join(dir, name, "bootstrap"))
		_, err := launch.Build(cfg.Out, fmt.Sprintf("%s (%s) for this machine", name, pkg), missing != nil, func() (err error) {
			bins[name], err = build(ctx, cfg, name, pkg, dir)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return bins, nil
}

// build builds one function for this host into dir/name/bootstrap.
func build(ctx context.Context, cfg Config, name, pkg, dir string) (string, error) {
	paths, err := lambdabuild.Build(ctx, cfg.ModuleDir, dir, lambdabuild.Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}, map[string]string{name: pkg})
	return paths[name], err
}

// secrets sets up where the authorizer reads its keys and returns the
// variables that tell it (authorizer.Env) and the AWS credentials it reads
// them with: only from its environment, as on Lambda
// (authorizer.SecretsManagerFromEnv).
func (m *Main) secrets(ctx context.Context, cfg Config, def *api.Definition) (map[string]string, error) {
	env := authorizer.Env(cfg.SecretID, def.Authorizer.TokenHeader())
	if cfg.SecretsEndpoint != "" {
		m.keyHint = fmt.Sprintf("Protected routes take a key of the secret %q; set one first:\n\n    export TOLLGATE_KEY=<a key of that keyring>\n", cfg.SecretID)
	}
	switch cfg.SecretsEndpoint {
	case awsEndpoint:
		// Lambda hands a function its role's credentials in the
		// environment; here they are the user's, found by the SDK's chain.
		creds, err := awsCredentials(ctx, cfg.Region)
		if err != nil {
			return nil, err
		}
		env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey] = creds.AccessKeyID, creds.SecretAccessKey
		if creds.SessionToken != "" {
			env[authorizer.EnvAWSSessionToken] = creds.SessionToken
		}
		if creds.CanExpire {
			fmt.Fprintf(cfg.Out, "The AWS credentials given to the authorizer expire at %s; restart then.\n", creds.Expires.Local().Format(time.DateTime))
		}
	case "":
		keys := cfg.KeysFile
		if keys == "" {
			var err error
			if keys, err = devKeyring(cfg); err != nil {
				return nil, err
			}
		}
		store, err := localsm.Open(cfg.SecretID, keys, cfg.Region, localaws.AccountID,
			slog.New(slog.NewTextHandler(cfg.FunctionLogs, nil)))
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		// A new access key for each run, given only to the authorizer:
		// another local process cannot read the keyring.
		id, secret := localaws.NewCredentials()
		store.AccessKeyID = id
		if def.IsHTTP() {
			store.SetWarn(httpRouteWarnings(*def))
		}
		m.Store = store
		m.serve(ln, store)
		go store.Watch(m.bg, keyringWatch)
		if cfg.KeysFile != "" {
			m.keyHint = fmt.Sprintf("Protected routes take a key of %s; set one first:\n\n    export TOLLGATE_KEY=<a key of %s>\n", cfg.KeysFile, filepath.Base(cfg.KeysFile))
		}
		env[authorizer.EnvAWSEndpoint] = "http://" + ln.Addr().String()
		env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey] = id, secret
	default:
		env[authorizer.EnvAWSEndpoint] = cfg.SecretsEndpoint
		env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey] = "tollgate-local", "tollgate-local"
		if id, secret := cfg.Getenv(authorizer.EnvAWSAccessKeyID), cfg.Getenv(authorizer.EnvAWSSecretAccessKey); id != "" && secret != "" {
			env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey] = id, secret
			if tok := cfg.Getenv(authorizer.EnvAWSSessionToken); tok != "" {
				env[authorizer.EnvAWSSessionToken] = tok
			}
		}
	}
	if cfg.KeyTTL > 0 {
		env[authorizer.EnvKeyTTL] = cfg.KeyTTL.String()
	}
	for k, v := range cfg.AuthorizerEnv {
		env[k] = v
	}
	if cfg.SecretsEndpoint != "" {
		if err := checkSecret(ctx, cfg, env); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// httpRouteWarnings names the keys of a keyring that an HTTP API refuses
// on a route they were meant to reach: its answers are cached by route and
// method, so a key limited to part of an API route is refused on all of it
// (authorizer.CheckHTTPRouteLimit).
func httpRouteWarnings(def api.Definition) func(authorizer.Keyring) []string {
	var routes []string
	for _, r := range def.SortedRoutes() {
		if r.Protected {
			routes = append(routes, r.String())
		}
	}
	return func(kr authorizer.Keyring) []string {
		var out []string
		for _, k := range kr.Keys {
			if k.Routes == nil {
				continue
			}
			if err := authorizer.CheckHTTPRouteLimit(k.Routes, routes); err != nil {
				out = append(out, fmt.Sprintf("key %q: %v", k.ID, err))
			}
		}
		return out
	}
}

// devKeyring returns StateDir/keyring.json, generating it with one new key
// the first time and printing that key, once.
func devKeyring(cfg Config) (string, error) {
	path := filepath.Join(cfg.StateDir, "keyring.json")
	if _, err := os.Stat(path); err == nil {
		fmt.Fprintf(cfg.Out, "Keys: %s (it holds digests; the key was shown once, when it was made: delete the file for a new one)\n", path)
		return path, nil
	}
	if err := privateDir(cfg.StateDir); err != nil {
		return "", err
	}
	key, doc, err := NewKeyring("local-dev")
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(doc); err != nil {
		_ = f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	fmt.Fprintf(cfg.Out, "Generated a development key in %s. It is shown only now:\n\n    export TOLLGATE_KEY=%s\n\n", path, key)
	return path, nil
}

// NewKeyring makes a keyring document holding the digest of one new
// tollgate key (authorizer.NewKey) with the given id, and returns the key:
// the only time it is seen.
func NewKeyring(id string) (key string, doc []byte, err error) {
	key = authorizer.NewKey()
	doc, err = json.MarshalIndent(authorizer.Keyring{Keys: []authorizer.Key{{ID: id, SHA256: authorizer.Digest(key)}}}, "", "  ")
	if err != nil {
		return "", nil, err
	}
	if _, err := authorizer.ParseKeyring(doc); err != nil {
		return "", nil, err
	}
	return key, append(doc, '\n'), nil
}

func (m *Main) serve(ln net.Listener, h http.Handler) {
	// Headers past 64 KB are refused by net/http (431) before they are
	// read whole; the gateway refuses more than API Gateway's 10 KB itself.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	m.servers = append(m.servers, srv)
	if g, ok := h.(*gateway.Gateway); ok {
		go func() { _ = g.Serve(srv, ln) }() // keeps the clients' header names
		return
	}
	go func() { _ = srv.Serve(ln) }()
}

// Routes prints what the user can call: one curl line per route.
func (m *Main) Routes(w io.Writer) {
	d := &m.def
	ttl := "off"
	if d.Authorizer.ResultTTL > 0 {
		ttl = d.Authorizer.ResultTTL.String()
	}
	if m.keyHint != "" {
		fmt.Fprintln(w, m.keyHint)
	}
	if m.jwt != nil {
		fmt.Fprintf(w, "JWTs from the issuer %q are accepted beside keys", m.jwt.Issuer)
		if m.mintCmd != "" {
			fmt.Fprintf(w, " (JWKS at %s%s). Mint one for a test subject, valid an hour:\n\n    export TOLLGATE_JWT=$(%s)\n", m.ControlURL, jwksPath, m.mintCmd)
			fmt.Fprintf(w, "\nand send it where a key goes: -H \"%s: Bearer $TOLLGATE_JWT\".\n\n", d.Authorizer.TokenHeader())
		} else {
			fmt.Fprint(w, ".\n\n")
		}
	}
	if d.IsHTTP() {
		fmt.Fprintf(w, "tollgate is serving stage %q of an HTTP API on %s (REQUEST authorizer with simple responses, result cache %s). Try:\n\n", d.Stage, m.URL, ttl)
	} else {
		fmt.Fprintf(w, "tollgate is serving stage %q on %s (%s authorizer, result cache %s). Try:\n\n", d.Stage, m.URL, d.Authorizer.Type, ttl)
	}
	for _, r := range d.Routes {
		fmt.Fprintf(w, "    %s\n", m.curl(r))
	}
	httpFlag := ""
	if d.IsHTTP() {
		httpFlag = " -http"
	}
	fmt.Fprintf(w, "\nTo end removed keys at once (flush the result cache, restart the authorizer):\n\n    go run ./cmd/tollkeys refresh -endpoint %s -credentials %s -api-id %s -stage %s -function %s%s\n",
		m.ControlURL, m.controlFile, m.Gateway.APIID(), d.Stage, d.Authorizer.Function, httpFlag)
	fmt.Fprintln(w, "\nCtrl-C stops it.")
}

func (m *Main) curl(r api.Route) string {
	var b strings.Builder
	b.WriteString("curl -i")
	method := r.Method
	if method == "ANY" {
		method = "GET"
	}
	if method != "GET" {
		b.WriteString(" -X " + method)
	}
	switch {
	case r.Protected:
		b.WriteString(` -H "` + m.def.Authorizer.TokenHeader() + `: Bearer $TOLLGATE_KEY"`)
	case r.JWT:
		b.WriteString(` -H "` + m.def.Authorizer.TokenHeader() + `: Bearer $TOLLGATE_JWT"`)
	}
	if method == "POST" || method == "PUT" || method == "PATCH" {
		b.WriteString(` -H "Content-Type: application/json" -d '{}'`)
	}
	path := r.Path
	for {
		i := strings.IndexByte(path, '{')
		j := strings.IndexByte(path, '}')
		if i < 0 || j < i {
			break
		}
		path = path[:i] + strings.TrimSuffix(path[i+1:j], "+") + path[j+1:]
	}
	b.WriteString(" " + m.URL + path)
	return b.String()
}

// Close stops every function instance, then stops serving. Requests in
// flight are answered as their functions fail.
func (m *Main) Close() error {
	if m.stop != nil {
		m.stop()
	}
	var errs []error
	for _, p := range m.Pools {
		errs = append(errs, p.Close())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range m.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// awsCredentials finds the user's AWS credentials as the AWS CLI does:
// environment, shared config and credentials files, SSO.
func awsCredentials(ctx context.Context, region string) (aws.Credentials, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("secrets endpoint %q: AWS configuration: %w", awsEndpoint, err)
	}
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("secrets endpoint %q: no AWS credentials (aws configure, or AWS_PROFILE): %w", awsEndpoint, err)
	}
	return creds, nil
}
