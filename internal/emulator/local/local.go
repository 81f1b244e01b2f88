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
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/emulator/gateway"
	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/emulator/localsm"
	"tollgate/internal/jwtissuer"
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
	// KeyTable, when set, is where the authorizer reads keys instead: a
	// DynamoDB key table (keyStore: dynamodb) at KeyTableEndpoint, the URL
	// of a DynamoDB-compatible endpoint (moto, DynamoDB Local) or
	// awsEndpoint for AWS. A table the endpoint lacks is created, and an
	// empty one given a development key (keytable.go).
	KeyTable, KeyTableEndpoint string
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
	// Stack, when set, are a Pulumi stack's clients and usage plans
	// (ReadStack): the gateway limits each client as that stack's deploy
	// does, and without a keys file the keyring generated holds a key
	// for each of its clients.
	Stack *Stack
	// StackName, when Stack is nil, is the stack whose settings are read
	// (ReadStack) from ModuleDir.
	StackName string
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
	URL   string         // the API's base URL, like http://127.0.0.1:8080
	Store *localsm.Store // nil with another endpoint
	// ControlURL is the endpoint that answers the AWS calls of
	// `tollkeys refresh` (see control.go).
	ControlURL string

	cfg Config // filled
	// cur is what the API runs on now: its definition, gateway and
	// functions, replaced whole when -watch takes an edit of the API file
	// (serving).
	cur     atomic.Pointer[serving]
	authEnv map[string]string // the authorizer's key settings (secrets), beside its definition's
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

	// accessLog is the access log's file, metrics the sums of the
	// functions' embedded metrics (observe.go).
	accessLog *accessLogFile
	metrics   metricSums

	mu     sync.Mutex                     // guards pools and closed
	pools  map[*lambdalocal.Pool]struct{} // every pool started and not yet closed
	closed bool
}

// Start builds, starts and serves everything, and returns when the API
// answers. On error, everything started is stopped again. The parts start
// in the order they depend on each other (definition, keyring and Secrets
// Manager, the watch's first look at the sources, binaries, functions,
// gateway, then the listeners), each failure undoing what came before.
//
// The API's port is checked first (a busy port is the likeliest mistake,
// and the quickest to report) and listened on last: until the gateway can
// answer, a client's connection is refused at once rather than held
// through the builds.
func Start(ctx context.Context, cfg Config) (_ *Main, err error) {
	m := &Main{pools: map[*lambdalocal.Pool]struct{}{}}
	m.bg, m.stop = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	if err := fill(&cfg); err != nil {
		return nil, err
	}
	if cfg.Stack == nil && cfg.StackName != "" {
		st, err := ReadStack(cfg.ModuleDir, cfg.StackName)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", cfg.StackName, err)
		}
		cfg.Stack = &st
	}
	m.cfg = cfg
	base, err := cfg.API()
	if err != nil {
		return nil, err
	}
	def, doc, err := Served(base)
	if err != nil {
		return nil, err
	}
	if err := checkPlans(cfg, def); err != nil {
		return nil, err
	}
	if err := portFree(cfg.Addr); err != nil {
		return nil, err
	}
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m.ControlURL = "http://" + ctl.Addr().String()
	fail := func(err error) (*Main, error) {
		_ = ctl.Close()
		return nil, err
	}
	if err := m.writeControlCredentials(cfg.StateDir, def.Stage); err != nil {
		return fail(fmt.Errorf("control endpoint credentials: %w", err))
	}
	if err := m.observe(); err != nil {
		return fail(err)
	}
	if m.authEnv, err = m.secrets(ctx, cfg, def); err != nil {
		return fail(err)
	}
	if cfg.JWTLocal {
		if m.issuer, err = localIssuer(cfg.StateDir); err != nil {
			return fail(fmt.Errorf("local issuer: %w", err))
		}
		m.issuerState = cfg.StateDir
		m.mintCmd = launch.GoRun(cfg.ModuleDir, "local") + " mint -sub alice"
		if cfg.ModuleDir == "" || cfg.StateDir != filepath.Join(cfg.ModuleDir, ".tollgate") {
			m.mintCmd += " -state " + cfg.StateDir
		}
	}
	if cfg.JWT != "" || cfg.JWTLocal {
		if m.jwt, err = jwtSettings(cfg, m.ControlURL); err != nil {
			return fail(err)
		}
		env, err := json.Marshal(m.jwt)
		if err != nil {
			return fail(err)
		}
		m.authEnv[authorizer.EnvJWT] = string(env)
	}
	var w *watcher
	if cfg.Watch {
		// The sources as they are before the first build: an edit saved
		// from now on, even during that build, is rebuilt.
		if w, err = newWatcher(ctx, m, def.Functions); err != nil {
			return fail(err)
		}
	}
	bins, err := binaries(ctx, cfg, def.Functions)
	if err != nil {
		return fail(err)
	}
	s, err := m.assemble(def, doc, bins, nil)
	if err != nil {
		return fail(err)
	}
	m.cur.Store(s)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fail(busy(cfg.Addr, err))
	}
	m.URL = "http://" + ln.Addr().String()
	m.serve(ctl, m.control())
	m.serve(ln, m)
	if w != nil {
		go w.run(m.bg)
	}
	return m, nil
}

// portFree reports a busy addr before anything is built: the listener is
// opened and closed again, to be opened for good once the gateway can
// answer.
func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return busy(addr, err)
	}
	return ln.Close()
}

// busy is the error of a listen on addr.
func busy(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on %s: the port is taken, by another local run perhaps; stop that, or choose another address with -addr: %w", addr, err)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}

// ServeHTTP serves a request with the gateway of the definition being
// served when it arrives. A definition replaced by an edit (-watch) is
// retired once the requests it took have been answered.
func (m *Main) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for {
		s := m.cur.Load()
		s.mu.RLock()
		if !s.retired {
			defer s.mu.RUnlock()
			s.gw.ServeHTTP(w, r)
			return
		}
		s.mu.RUnlock() // replaced meanwhile: serve it with the new one
	}
}

// Definition is the API being served, as the gateway reads it from its
// OpenAPI document (Served).
func (m *Main) Definition() api.Definition { return m.cur.Load().def }

// Document is the OpenAPI document the gateway serves: the one the deploy
// imports, with local stand-ins for the functions' ARNs.
func (m *Main) Document() []byte { return m.cur.Load().doc }

// Gateway is the local API Gateway serving the API.
func (m *Main) Gateway() *gateway.Gateway { return m.cur.Load().gw }

// Pool is the function name's running instances, nil for none.
func (m *Main) Pool(name string) *lambdalocal.Pool { return m.cur.Load().pools[name] }

// FunctionNames are the served API's functions, sorted.
func (m *Main) FunctionNames() []string { return slices.Sorted(maps.Keys(m.cur.Load().pools)) }

func (m *Main) serve(ln net.Listener, h http.Handler) {
	// Headers past 64 KB are refused by net/http (431) before they are
	// read whole; the gateway refuses more than API Gateway's 10 KB itself.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	m.servers = append(m.servers, srv)
	if h == http.Handler(m) {
		go func() { _ = gateway.ServeHandler(srv, ln, m) }() // keeps the clients' header names
		return
	}
	go func() { _ = srv.Serve(ln) }()
}

// Close stops every function instance, then stops serving. Requests in
// flight are answered as their functions fail.
func (m *Main) Close() error {
	if m.stop != nil {
		m.stop()
	}
	m.mu.Lock()
	m.closed = true
	pools := m.pools
	m.pools = nil
	m.mu.Unlock()
	var errs []error
	for p := range pools {
		errs = append(errs, p.Close())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range m.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, s.Close())
		}
	}
	if m.accessLog != nil {
		errs = append(errs, m.accessLog.Close())
	}
	return errors.Join(errs...)
}
