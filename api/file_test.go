package api

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The repository's api.yaml is tollgate's default API: the file a user
// edits starts as the example of what Default declares.
func TestRepositoryFileIsTheDefault(t *testing.T) {
	def, err := LoadFile(filepath.Join("..", FileName))
	if err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(def, want) {
		t.Errorf("../%s declares\n%+v\nwant Default()\n%+v", FileName, def, want)
	}
}

func TestParseFile(t *testing.T) {
	b, err := os.ReadFile("testdata/files/custom.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, err := ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	orders := def.Functions["orders"]
	if orders.Package != "./functions/orders" || orders.MemoryMB != 256 || orders.Timeout != 20*time.Second || orders.Env["GREETING"] != "hello" {
		t.Errorf("orders = %+v", orders)
	}
	if h := def.Functions["handler"]; h.MemoryMB != defaultFileMemoryMB || h.Timeout != defaultFileTimeout {
		t.Errorf("handler = %+v, want the defaults", h)
	}
	if a := def.Functions["authorizer"]; a.Package != AuthorizerPackage {
		t.Errorf("authorizer = %+v, want tollgate's", a)
	}
	want := []Route{
		{Method: "GET", Path: "/hello", Function: "handler", Protected: true},
		{Method: "GET", Path: "/orders/{id}", Function: "orders", Protected: true, Throttle: &Throttle{RateLimit: 2.5, BurstLimit: 5}},
		{Method: "GET", Path: "/health", Function: "handler"},
	}
	if !reflect.DeepEqual(def.Routes, want) {
		t.Errorf("routes = %+v, want %+v", def.Routes, want)
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"empty", "", "empty"},
		{"not YAML", "functions: [", "line 1"},
		{"unknown key", "functions:\n  handler:\n    package: ./cmd/handler\n    memory: 256\nroutes:\n  - route: GET /a\n    function: handler\n", "line 4: field memory not found"},
		{"typo in a route", "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET /a\n    function: handler\n    publik: true\n", "line 7: field publik not found"},
		{"no routes", "functions:\n  handler:\n    package: ./cmd/handler\n", "at least one function and one route"},
		{"authorizer declared", "functions:\n  authorizer:\n    package: ./mine\nroutes:\n  - route: GET /a\n    function: authorizer\n", "tollgate's authorizer"},
		{"route without a path", "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET\n    function: handler\n", `want "METHOD /path"`},
		{"unknown function", "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET /a\n    function: orders\n", "orders"},
		{"bad timeout", "functions:\n  handler:\n    package: ./cmd/handler\n    timeout: soon\nroutes:\n  - route: GET /a\n    function: handler\n", `timeout "soon"`},
		{"timeout too long", "functions:\n  handler:\n    package: ./cmd/handler\n    timeout: 16m\nroutes:\n  - route: GET /a\n    function: handler\n", "timeout 16m0s"},
		{"package outside the module", "functions:\n  handler:\n    package: ../x\nroutes:\n  - route: GET /a\n    function: handler\n", "want a Go package"},
		{"bad method", "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: FETCH /a\n    function: handler\n", `method "FETCH"`},
		{"two documents", "functions: {}\n---\nroutes: []\n", "at least one function"},
		{"throttle without a burst", "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET /a\n    function: handler\n    throttle: {rateLimit: 5}\n", "throttle 5 requests/s, burst 0"},
		{"throttle past the account's", "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET /a\n    function: handler\n    throttle: {rateLimit: 20000, burstLimit: 10}\n", "at most 10000"},
		{"throttle on the root", "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET /\n    function: handler\n    throttle: {rateLimit: 1, burstLimit: 1}\n", "root path"},
		{"throttle typo", "functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET /a\n    function: handler\n    throttle: {rate: 1, burstLimit: 1}\n", "field rate not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile([]byte(tt.file))
			if err == nil {
				t.Fatalf("ParseFile(%q) = nil error, want one naming %q", tt.file, tt.want)
			}
			if !errors.Is(err, ErrFile) {
				t.Errorf("error %v does not wrap ErrFile", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to name %q", err, tt.want)
			}
		})
	}
}

// FuzzParseFile: whatever the bytes, ParseFile returns a valid definition
// or an ErrFile, and never panics.
func FuzzParseFile(f *testing.F) {
	for _, p := range []string{filepath.Join("..", FileName), "testdata/files/custom.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("functions: {a: {package: ./a}}\nroutes: [{route: ANY /{p+}, function: a, public: true}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		def, err := ParseFile(b)
		if err != nil {
			if !errors.Is(err, ErrFile) {
				t.Fatalf("error %v does not wrap ErrFile", err)
			}
			return
		}
		if err := def.Validate(); err != nil {
			t.Fatalf("ParseFile returned an invalid definition: %v", err)
		}
	})
}

// Binary media types: declared in api.yaml, written to the document as
// x-amazon-apigateway-binary-media-types and read back from it; a value
// that is not type/subtype is refused.
func TestBinaryMediaTypes(t *testing.T) {
	def, err := ParseFile([]byte("functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: POST /upload\n    function: handler\nbinaryMediaTypes: [image/png, application/*]\n"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := def.Document(DocumentOptions{IntegrationURI: LocalURI})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"x-amazon-apigateway-binary-media-types"`) {
		t.Errorf("document has no binary media types: %s", doc)
	}
	read, err := ParseDocument(doc, LocalFunction)
	if err != nil || !reflect.DeepEqual(read.BinaryMediaTypes, []string{"image/png", "application/*"}) {
		t.Errorf("read back %v, %v", read.BinaryMediaTypes, err)
	}
	for value, want := range map[string]bool{"image/png": true, "IMAGE/PNG; q=1": true, "application/json": true, "text/plain": false, "": false, "garbage": false} {
		if got := def.IsBinary(value); got != want {
			t.Errorf("IsBinary(%q) = %v, want %v", value, got, want)
		}
	}
	def.BinaryMediaTypes = []string{"png"}
	if err := def.Validate(); err == nil || !strings.Contains(err.Error(), `binary media type "png"`) {
		t.Errorf("Validate with png = %v", err)
	}
	plain := Default()
	if doc, err := plain.Document(DocumentOptions{IntegrationURI: LocalURI}); err != nil || strings.Contains(string(doc), "binary-media-types") {
		t.Errorf("a definition without binary media types: %v, or it declares some", err)
	}
}

// Issue 27: an API file given by path (cmd/local -api FILE, or the deploy's
// own) is named by that path in every error, not called "api.yaml".
func TestLoadFileErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"syntax.yaml":    "routes: [\n",
		"unknown.yaml":   "functions: {h: {package: ./h}}\nroutes: [{route: GET /x, function: h, protectd: true}]\n",
		"invalid.yaml":   "functions: {h: {package: ./h}}\nroutes: [{route: GET /x, function: nope}]\n",
		"empty.yaml":     "",
		"no-routes.yaml": "functions: {h: {package: ./h}}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") || strings.Contains(err.Error(), FileName) || !errors.Is(err, ErrFile) {
			t.Errorf("LoadFile(%s) = %v, want an ErrFile whose message starts with the path and never says %s", name, err, FileName)
		}
	}
	missing := filepath.Join(dir, "missing.yaml")
	if _, err := LoadFile(missing); err == nil || !strings.HasPrefix(err.Error(), "open "+missing) && !strings.HasPrefix(err.Error(), missing) {
		t.Errorf("LoadFile(missing) = %v, want the path named", err)
	}
}
