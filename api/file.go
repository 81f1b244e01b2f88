package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// FileName is the file, at the root of the module, where a user declares
// the API: its functions and routes. `go run ./cmd/local` serves it and
// `pulumi up` deploys it; see LoadFile for its format.
const FileName = "api.yaml"

// AuthorizerPackage is tollgate's authorizer, the function every protected
// route is guarded by. It is named by its import path, so that it is built
// from tollgate's own source wherever that sits: this module, or a
// dependency of the user's module.
const AuthorizerPackage = "tollgate/cmd/authorizer"

// ErrFile is wrapped by every error LoadFile and ParseFile return.
var ErrFile = errors.New(FileName)

// The parts of an API file. Unknown keys are refused, so that a typo
// ("protectd") cannot silently change what is deployed.
type file struct {
	Functions        map[string]fileFunction `yaml:"functions"`
	Routes           []fileRoute             `yaml:"routes"`
	BinaryMediaTypes []string                `yaml:"binaryMediaTypes"`
}

type fileFunction struct {
	Package  string            `yaml:"package"`
	MemoryMB int               `yaml:"memoryMB"`
	Timeout  string            `yaml:"timeout"`
	Env      map[string]string `yaml:"env"`
}

type fileRoute struct {
	Route    string        `yaml:"route"`
	Function string        `yaml:"function"`
	Public   bool          `yaml:"public"`
	Auth     string        `yaml:"auth"`
	Scopes   []string      `yaml:"scopes"`
	Throttle *fileThrottle `yaml:"throttle"`
}

type fileThrottle struct {
	RateLimit  float64 `yaml:"rateLimit"`
	BurstLimit int     `yaml:"burstLimit"`
}

// Function defaults in an API file: Lambda's smallest memory size and a
// timeout well under API Gateway's 29-second integration limit
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
const (
	defaultFileMemoryMB = 128
	defaultFileTimeout  = 10 * time.Second
)

// LoadFile reads the API file at path and returns Default with its
// functions and routes in place of tollgate's; see ParseFile.
// Its errors wrap ErrFile and start with path, as given.
func LoadFile(path string) (Definition, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, first
		}
		return Definition{}, &pathError{path: path, err: fmt.Errorf("%w: %w", ErrFile, err)}
	}
	def, err := ParseFile(b)
	if err != nil {
		return Definition{}, &pathError{path: path, err: err}
	}
	return def, nil
}

// pathError is an error of ParseFile ("api.yaml: …") for a file read
// from path: it says path where ParseFile says FileName.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string {
	return e.path + strings.TrimPrefix(e.err.Error(), FileName)
}

func (e *pathError) Unwrap() error { return e.err }

// ParseFile reads an API file and returns Default with the file's
// functions and routes in place of tollgate's. The file is YAML:
//
//	functions:
//	  handler:
//	    package: ./cmd/handler   # a Go main package: ./path in this module, or an import path
//	    memoryMB: 128            # optional: 128 to 10240 (default 128)
//	    timeout: 10s             # optional: 1s to 15m, whole seconds (default 10s)
//	    env: {GREETING: hello}   # optional
//	routes:
//	  - route: GET /hello        # METHOD /path, as API Gateway routes and keyrings write it
//	    function: handler
//	  - route: GET /health
//	    function: handler
//	    public: true             # not guarded by the authorizer; routes are protected unless so marked
//	  - route: GET /reports
//	    function: handler
//	    auth: jwt                # optional, HTTP APIs only: API Gateway's JWT authorizer instead of tollgate's
//	    scopes: [reports:read]   # optional, with auth: jwt: the token must hold one of them
//	  - route: POST /orders
//	    function: handler
//	    throttle:                # optional: this route's own limit, below the stage's
//	      rateLimit: 10          # requests per second, steady
//	      burstLimit: 5          # requests at once
//	binaryMediaTypes:            # optional: bodies API Gateway passes as binary
//	  - image/png
//
// The authorizer is tollgate's own (AuthorizerPackage) and is not
// declared here. Errors name the line of the mistake; the result is
// validated as Definition.Validate does.
func ParseFile(b []byte) (Definition, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return Definition{}, fmt.Errorf("%w: empty: declare functions and routes", ErrFile)
		}
		return Definition{}, fmt.Errorf("%w: %s", ErrFile, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	def := Default()
	auth := def.Functions[def.Authorizer.Function]
	def.Functions = map[string]Function{def.Authorizer.Function: auth}
	def.Routes = nil
	def.BinaryMediaTypes = f.BinaryMediaTypes
	if len(f.Functions) == 0 || len(f.Routes) == 0 {
		return Definition{}, fmt.Errorf("%w: declare at least one function and one route", ErrFile)
	}
	for name, ff := range f.Functions {
		if name == def.Authorizer.Function {
			return Definition{}, fmt.Errorf("%w: function %q is tollgate's authorizer, built from %s; give yours another name", ErrFile, name, AuthorizerPackage)
		}
		fn := Function{Package: ff.Package, MemoryMB: ff.MemoryMB, Timeout: defaultFileTimeout, Env: ff.Env}
		if fn.MemoryMB == 0 {
			fn.MemoryMB = defaultFileMemoryMB
		}
		if ff.Timeout != "" {
			d, err := time.ParseDuration(ff.Timeout)
			if err != nil {
				return Definition{}, fmt.Errorf("%w: function %q: timeout %q: want a duration like 10s or 1m", ErrFile, name, ff.Timeout)
			}
			fn.Timeout = d
		}
		def.Functions[name] = fn
	}
	for i, fr := range f.Routes {
		method, path, ok := strings.Cut(fr.Route, " ")
		if !ok || fr.Route == "" {
			return Definition{}, fmt.Errorf("%w: route %d: route %q: want \"METHOD /path\", like \"GET /hello\"", ErrFile, i+1, fr.Route)
		}
		r := Route{Method: method, Path: path, Function: fr.Function, Protected: !fr.Public}
		switch fr.Auth {
		case "":
			if fr.Scopes != nil {
				return Definition{}, fmt.Errorf("%w: route %s: scopes apply to routes with auth: jwt", ErrFile, fr.Route)
			}
		case "jwt":
			if fr.Public {
				return Definition{}, fmt.Errorf("%w: route %s: public, or auth: jwt, not both", ErrFile, fr.Route)
			}
			r.Protected, r.JWT, r.Scopes = false, true, fr.Scopes
		default:
			return Definition{}, fmt.Errorf("%w: route %s: auth %q: want jwt (API Gateway's JWT authorizer), or leave it out for tollgate's", ErrFile, fr.Route, fr.Auth)
		}
		if t := fr.Throttle; t != nil {
			r.Throttle = &Throttle{RateLimit: t.RateLimit, BurstLimit: t.BurstLimit}
		}
		def.Routes = append(def.Routes, r)
	}
	// JWT routes need an HTTP API and the JWT authorizer's issuer, which
	// the deploy's settings (or the local run's flags) give later: check
	// the rest as such an API.
	probe := def
	if def.HasJWTRoutes() {
		probe.UseHTTP()
		probe.JWT = &JWTAuthorizer{Issuer: "https://issuer.invalid/", Audiences: []string{"audience"}}
	}
	if err := probe.Validate(); err != nil {
		return Definition{}, fmt.Errorf("%w: %w", ErrFile, err)
	}
	return def, nil
}

// importPath is a Go import path: slash-separated elements of letters,
// digits and -._~+ (https://go.dev/ref/mod#go-mod-file-ident, simplified:
// the go command checks the rest when it builds).
var importPath = regexp.MustCompile(`^[A-Za-z0-9_~+-][A-Za-z0-9._~+-]*(/[A-Za-z0-9._~+-]+)*$`)

// validPackage reports whether pkg names a Go package the way a function
// may: "./path" inside the module, or an import path.
func validPackage(pkg string) bool {
	if rest, ok := strings.CutPrefix(pkg, "./"); ok {
		if rest == "" {
			return true
		}
		for _, el := range strings.Split(rest, "/") {
			if el == "" || el == "." || el == ".." {
				return false
			}
		}
		return importPath.MatchString(rest)
	}
	return importPath.MatchString(pkg) && !strings.Contains(pkg, "..")
}
