package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/handler"
	"tollgate/internal/emulator/gateway"
	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/launch"
)

// binaries builds the functions fns for this host, or finds them in
// BinDir. Each build is announced and timed: a first run compiles the AWS
// SDK and takes a while, and the user should see what it is doing.
func binaries(ctx context.Context, cfg Config, fns map[string]api.Function) (map[string]string, error) {
	bins := map[string]string{}
	if cfg.BinDir != "" {
		for name := range fns {
			bins[name] = filepath.Join(cfg.BinDir, name, "bootstrap")
		}
		return bins, nil
	}
	dir := filepath.Join(cfg.StateDir, "bin")
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		pkg := fns[name].Package
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

// serving is what the API runs on: a definition, its OpenAPI document,
// the gateway serving them and a pool of instances for each function.
// Under -watch an edit of the API file makes a new one (assemble) that
// replaces it whole (Main.swap).
type serving struct {
	def   api.Definition
	doc   []byte
	gw    *gateway.Gateway
	pools map[string]*lambdalocal.Pool // by function name
	env   map[string]map[string]string // each function's environment
	bins  map[string]string            // each function's binary; the watcher's rebuilds update it

	mu      sync.RWMutex // held for reading by each request served
	retired bool         // replaced: requests go to the new one
}

// assemble makes what def runs on, with the binaries bins. A function
// that old runs with the same binary and settings keeps its pool, warm
// instances and all; the others get new pools.
func (m *Main) assemble(def api.Definition, doc []byte, bins map[string]string, old *serving) (*serving, error) {
	s := &serving{def: def, doc: doc, bins: bins, pools: map[string]*lambdalocal.Pool{}, env: map[string]map[string]string{}}
	var made []*lambdalocal.Pool
	fail := func(err error) (*serving, error) {
		for _, p := range made {
			m.release(p)
		}
		return nil, err
	}
	invokers := map[string]gateway.Invoker{}
	for _, name := range slices.Sorted(maps.Keys(def.Functions)) {
		f := def.Functions[name]
		s.env[name] = m.functionEnv(def, name)
		if old != nil && old.pools[name] != nil && old.bins[name] == bins[name] && maps.Equal(old.env[name], s.env[name]) &&
			old.def.Functions[name].Timeout == f.Timeout && old.def.Functions[name].MemoryMB == f.MemoryMB {
			s.pools[name] = old.pools[name]
		} else {
			p, err := lambdalocal.NewPool(lambdalocal.Function{
				Name:     name,
				Binary:   bins[name],
				Env:      s.env[name],
				Timeout:  f.Timeout,
				MemoryMB: f.MemoryMB,
				Region:   m.cfg.Region,
				Logs:     m.cfg.FunctionLogs,
			})
			if err != nil {
				return fail(err)
			}
			if err := m.track(p); err != nil {
				return fail(err)
			}
			made = append(made, p)
			s.pools[name] = p
		}
		invokers[name] = s.pools[name]
	}
	gw := gateway.Config{
		Definition: def,
		Functions:  invokers,
		Region:     m.cfg.Region,
		AccessLog:  m.cfg.AccessLog,
	}
	if m.cfg.Stack != nil {
		gw.Plans = m.cfg.Stack.Plans
	}
	if def.HasJWTRoutes() {
		// The JWT routes' authorizer is API Gateway's, emulated with the
		// authorizer's JWT code and the settings' JWKS URL (API Gateway
		// finds the keys from the issuer's OpenID configuration).
		var err error
		if gw.JWT, err = gatewayJWT(def.JWT, m.jwt, m.cfg.FunctionLogs); err != nil {
			return fail(err)
		}
	}
	var err error
	if s.gw, err = gateway.New(gw); err != nil {
		return fail(err)
	}
	if m.Store != nil {
		var warn func(authorizer.Keyring) []string
		switch {
		case def.IsHTTP():
			warn = httpRouteWarnings(def)
		case !gw.Plans.Empty():
			warn = planWarnings(gw.Plans)
			g := s.gw
			m.Store.SetOnChange(func(kr authorizer.Keyring) { g.SetAPIKeys(apiKeys(gw.Plans, kr)) })
		}
		m.Store.SetWarn(warn)
	}
	return s, nil
}

// functionEnv is function name's environment under def: its own
// variables, then what each Lambda package says it needs, as the deploy
// sets them.
func (m *Main) functionEnv(def api.Definition, name string) map[string]string {
	env := maps.Clone(def.Functions[name].Env)
	if env == nil {
		env = map[string]string{}
	}
	if def.AnswersRoutes(name) {
		maps.Copy(env, handler.Env(def.AllowedOrigin))
	}
	if name == def.Authorizer.Function {
		maps.Copy(env, authorizer.Env(m.cfg.SecretID, def.Authorizer.TokenHeader()))
		maps.Copy(env, m.authEnv)
	}
	return env
}

// swap serves next in old's place: new requests go to next at once; once
// the requests old took are answered, the pools only old used are closed.
func (m *Main) swap(old, next *serving) {
	m.cur.Store(next)
	go func() {
		old.mu.Lock() // waits for old's requests in flight
		old.retired = true
		old.mu.Unlock()
		for name, p := range old.pools {
			if next.pools[name] != p {
				m.release(p)
			}
		}
	}()
}

// track records a new pool, for Close; after Close it is refused.
func (m *Main) track(p *lambdalocal.Pool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		_ = p.Close()
		return errors.New("the local run is stopping")
	}
	m.pools[p] = struct{}{}
	return nil
}

// release closes a pool no longer served.
func (m *Main) release(p *lambdalocal.Pool) {
	m.mu.Lock()
	delete(m.pools, p)
	m.mu.Unlock()
	_ = p.Close()
}
