package local

import (
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"strings"

	"tollgate/internal/emulator/gateway"
	"tollgate/internal/emulator/localaws"
)

// The control endpoint answers the AWS calls an operator makes to revoke
// keys at once (cmd/tollkeys refresh), so that the same command works
// against the local run as against AWS:
//
//   - API Gateway's FlushStageAuthorizersCache,
//     DELETE /restapis/{restapi_id}/stages/{stage_name}/cache/authorizers
//     (https://docs.aws.amazon.com/apigateway/latest/api/API_FlushStageAuthorizersCache.html),
//     answered 202 as AWS does, empties the gateway's result cache; for
//     an HTTP API, API Gateway v2's ResetAuthorizersCache,
//     DELETE /v2/apis/{apiId}/stages/{stageName}/cache/authorizers
//     (https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename-cache-authorizers.html),
//     answered 204;
//   - Lambda's GetFunctionConfiguration and UpdateFunctionConfiguration,
//     GET and PUT /2015-03-31/functions/{name}/configuration
//     (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html):
//     an update replaces the function's instances (Pool.Recycle), as new
//     configuration does on Lambda, so warm authorizers load the keys
//     again. The configuration itself is not changed here;
//   - with a stack's plans, the usage plan calls of `tollkeys usage`
//     (usage.go);
//   - tollgate's own GET MetricsPath: the sums of the functions' embedded
//     metrics, the authorizer's decisions by outcome and reason among
//     them (observe.go).
//
// With a local issuer (Config.JWTLocal) it also serves the issuer's JWKS
// at /.well-known/jwks.json, to anyone, as an issuer does.
//
// Every other request must be signed with the run's own credentials, new
// for each run and written to localaws.ControlCredentialsFile (0600, in a
// 0700 state directory) for `tollkeys refresh -credentials`: another local user
// can neither recycle the authorizer, nor flush its cache, nor read its
// settings. As for the local Secrets Manager, the access key id is what
// is checked (localaws.AccessKeyID). It listens on 127.0.0.1 only.
func (m *Main) control() http.Handler {
	mux := http.NewServeMux()
	flush := func(v2 bool, status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s := m.cur.Load()
			if r.PathValue("api") != s.gw.APIID() || r.PathValue("stage") != s.def.Stage || v2 != s.def.IsHTTP() {
				awsError(w, 404, "NotFoundException", "Invalid stage identifier specified")
				return
			}
			s.gw.FlushAuthorizerCache()
			w.WriteHeader(status)
		}
	}
	if m.issuer != nil {
		serveJWKS(mux, m.issuer)
	}
	mux.HandleFunc("DELETE /restapis/{api}/stages/{stage}/cache/authorizers", flush(false, http.StatusAccepted))
	mux.HandleFunc("DELETE /v2/apis/{api}/stages/{stage}/cache/authorizers", flush(true, http.StatusNoContent))
	config := func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		s := m.cur.Load()
		p, ok := s.pools[name]
		if !ok {
			awsError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
			return
		}
		if r.Method == http.MethodPut {
			p.Recycle()
		}
		// Only the function's own settings: never the credentials the
		// local run hands the authorizer.
		env := map[string]string{}
		for k, v := range s.env[name] {
			if strings.HasPrefix(k, "TOLLGATE_") {
				env[k] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"FunctionName":     name,
			"FunctionArn":      p.ARN(),
			"State":            "Active",
			"LastUpdateStatus": "Successful",
			"Environment":      map[string]any{"Variables": maps.Clone(env)},
		})
	}
	m.usageAPI(mux)
	mux.HandleFunc("GET "+MetricsPath, m.metrics.serveHTTP)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/configuration", config)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/configuration", config)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != jwksPath && localaws.AccessKeyID(r) != m.controlID {
			// What AWS answers an access key it does not know
			// (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
			awsError(w, http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// writeControlCredentials makes the run's control credentials and writes
// them to localaws.ControlCredentialsFile, in a private state directory.
func (m *Main) writeControlCredentials(stateDir, stage string) error {
	id, secret := localaws.NewCredentials()
	b, _ := json.Marshal(localaws.ControlCredentials{AccessKeyID: id, SecretAccessKey: secret,
		Endpoint: m.ControlURL, APIID: gateway.DefaultAPIID, Stage: stage})
	if err := privateDir(stateDir); err != nil {
		return err
	}
	path := localaws.ControlCredentialsFile(stateDir)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil { // an older file keeps its mode otherwise
		return err
	}
	m.controlID, m.controlFile = id, path
	return nil
}

// privateDir makes dir, and its missing parents, readable by its owner
// only, as the state directory must be: it holds the control credentials
// and, with -jwt-local, the issuer's private key.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// awsError answers as AWS's REST-JSON services do: the error's type in a
// header, as the SDKs read it, and a message.
func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
