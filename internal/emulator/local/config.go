package local

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"tollgate/api"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/lambdabuild"
)

// API is the Definition cfg serves: cfg.Definition; else the API file
// (cfg.APIFile, or api.yaml at the module's root when there is one); else
// api.Default(); with cfg's result TTL, authorizer type and CORS origin.
func (cfg Config) API() (api.Definition, error) {
	def := api.Default()
	file := cfg.apiFile()
	if cfg.APIFile == "" && !fileExists(file) {
		file = ""
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
	doc, err := def.Document(api.DocumentOptions{IntegrationURI: api.LocalURI, Local: true})
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
	if cfg.KeyTable != "" && (cfg.SecretsEndpoint != "" || cfg.KeysFile != "" || cfg.Stack != nil || cfg.StackName != "") {
		return errors.New("a key table holds the keys: it cannot be used with a keys file, a secrets endpoint or a stack's keyring")
	}
	if cfg.KeyTable != "" && cfg.KeyTableEndpoint == "" {
		return fmt.Errorf("key table %q: give its endpoint (-dynamodb-endpoint URL, such as moto's or DynamoDB Local's, or %q)", cfg.KeyTable, awsEndpoint)
	}
	if e := cfg.KeyTableEndpoint; e != "" && e != awsEndpoint && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
		return fmt.Errorf("dynamodb endpoint %q: want %q or an http(s) URL", e, awsEndpoint)
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

// apiFile is the API file cfg serves, and -watch watches: cfg.APIFile, or
// api.yaml at the module's root (served when it exists), or "" when the
// definition is cfg.Definition.
func (cfg Config) apiFile() string {
	switch {
	case cfg.APIFile != "":
		return cfg.APIFile
	case cfg.Definition != nil:
		return ""
	}
	dir := cfg.ModuleDir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return ""
		}
		if dir, err = lambdabuild.ModuleDir(wd); err != nil {
			return ""
		}
	}
	return filepath.Join(dir, api.FileName)
}
