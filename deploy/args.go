package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/plans"
)

// ErrConfig is wrapped by every error Args.Validate returns, and so by
// every configuration error New reports before it creates anything.
var ErrConfig = errors.New("invalid tollgate configuration")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// Arch is a Lambda instruction set architecture.
type Arch string

const (
	// ARM64 is AWS Graviton, Lambda's cheaper and usually faster choice.
	ARM64 Arch = "arm64"
	// X86_64 is 64-bit x86, named as Lambda names it.
	X86_64 Arch = "x86_64" //nolint:staticcheck // ST1003: the name is Lambda's, x86_64

)

// goarch is the Go architecture that builds for a.
func (a Arch) goarch() (string, error) {
	switch a {
	case ARM64:
		return "arm64", nil
	case X86_64:
		return "amd64", nil
	}
	return "", configErr("architecture %q: want arm64 or x86_64", a)
}

// KeyStore is where a stack keeps its keys.
type KeyStore string

// The key stores.
const (
	SecretStore KeyStore = "secret"
	TableStore  KeyStore = "dynamodb"
)

// Defaults for the zero values of Args.
const (
	DefaultArch             = ARM64
	DefaultLogRetentionDays = 14
	DefaultRateLimit        = 100
	DefaultBurstLimit       = 50
)

// Args configure a tollgate API. Zero values mean the defaults documented on
// each field; Clients is the one field that must be set.
type Args struct {
	// Definition is the API: routes, functions, authorizer, gateway
	// responses and access log. Start from api.Default. Every function is
	// built from its Package in ModuleDir.
	Definition api.Definition

	// Arch is the functions' architecture; default ARM64.
	Arch Arch
	// ModuleDir is the Go module the functions are built in; default the
	// tollgate module around the working directory.
	ModuleDir string
	// BuildDir is where the archives are written; default
	// ModuleDir/.tollgate/build/<arch>.
	BuildDir string
	// Archives, when set, are the functions' packages (Args.Build), and
	// New builds nothing. Every function of Definition needs one.
	Archives map[string]Archive

	// Clients name the callers that get a key, one each; at least one.
	// The names become the policies' principalId.
	Clients []string
	// KeyDigests are keys supplied for some Clients, by client name, as
	// the lower-case hex SHA-256 of the key (authorizer.Digest; printf %s
	// "$KEY" | sha256sum): the program never sees such a key. The other
	// clients get a generated key in the tollgate format
	// (authorizer.NewKey), returned in the APIKeys output.
	KeyDigests map[string]string
	// Routes restrict some Clients to routes, by client name, in the
	// keyring's notation ("GET /orders/*"). Without an entry, a client may
	// call every route.
	Routes map[string][]string
	// Expiry ends some clients' keys, by client name: the key (and a
	// previous key in its grace) stops at that instant.
	Expiry map[string]time.Time
	// Disabled clients keep their keys in the keyring but are refused,
	// and logged as such, until taken off this list.
	Disabled []string
	// Rotation is a counter: changing it generates a new key for every
	// client with a generated key, as a Rotations entry's N does for one.
	Rotation int
	// Rotations rotate clients with generated keys one at a time, by
	// client name: changing a client's N generates its new key, and its
	// key before that keeps working until PreviousUntil (the keyring's
	// "previous" entry), or stops at once when PreviousUntil is zero.
	// Other clients' keys are untouched.
	Rotations map[string]Rotation
	// DeployedGenerations are the generations (Rotation plus the client's
	// Rotations N) of the clients' generated keys as the stack last
	// deployed them, by client: the API's KeyGenerations output, read
	// back (nil on a first deploy). A rotation is one way: a generation
	// below its deployed one would make the key it replaced current
	// again, so Validate refuses it.
	DeployedGenerations map[string]int
	// RecoveryWindowInDays is how long a destroyed secret can be
	// restored: 0 (deleted at once, so destroy and up can follow each
	// other) or 7 to 30.
	RecoveryWindowInDays int
	// KeyStore is where the authorizer reads the keys: SecretStore (the
	// default, one secret holding the keyring) or TableStore (a DynamoDB
	// table, for key sets past what one secret holds: keytable.go).
	KeyStore KeyStore
	// KeyTableUnprotected turns the key table's deletion protection off,
	// so that pulumi destroy (or a move back to the secret) can delete
	// it; with protection on (the default), DynamoDB refuses to delete
	// the table and its keys.
	KeyTableUnprotected bool
	// KMSKeyARN is the customer managed KMS key that encrypts the secret
	// (or the key table);
	// empty means Secrets Manager's AWS managed key. The authorizer may
	// then decrypt with this key, through Secrets Manager only.
	KMSKeyARN string

	// LogRetentionDays is how long the functions' logs and the access log
	// are kept: a value CloudWatch Logs allows; default
	// DefaultLogRetentionDays.
	LogRetentionDays int
	// ReservedConcurrency caps a function's concurrent executions, by
	// function name; absent or 0 means unreserved.
	ReservedConcurrency map[string]int
	// Throttle is the stage's limit for every method; zero fields mean
	// DefaultRateLimit and DefaultBurstLimit.
	Throttle Throttle
	// Plans, when not empty, are the stage's usage plans: each an API
	// Gateway usage plan, with every client's API Gateway API key on its
	// plan, returned by the authorizer as usageIdentifierKey (API key
	// source AUTHORIZER). REST APIs only.
	Plans plans.Set
	// AccountLogsRole, when set, makes the Region's API Gateway account
	// settings (one per account and Region) name a role API Gateway may
	// write access logs with: the account's AccountLogsRoleName, created
	// if the account has none. Every tollgate stack sets the same role,
	// and neither the role nor the setting is deleted or reset on
	// destroy, since other stacks may log through them. Leave it unset
	// when the account's settings name a role of your own.
	AccountLogsRole bool
	// Monitoring is the dashboard, alarms, Contributor Insights rules and
	// saved queries the stack runs the API with (monitoring.go); on unless
	// Monitoring.Off.
	Monitoring Monitoring
}

// Monitoring is how the stack watches its API.
type Monitoring struct {
	// Off leaves out the dashboard, the alarms, the access log's metric
	// filters, the Contributor Insights rules and the saved queries.
	Off bool
	// AlarmEmail, when set, is subscribed to the alarms' topic (it must
	// confirm the subscription from the mail SNS sends).
	AlarmEmail string
	// AlarmTopicARN, when set, is an SNS topic of your own the alarms
	// are sent to; the stack then makes no topic.
	AlarmTopicARN string
}

// Rotation is one client's rotation counter and the end of the grace of
// the key it replaced.
type Rotation struct {
	N             int       `json:"n"`
	PreviousUntil time.Time `json:"previousUntil,omitzero"`
}

// Throttle is a token bucket: a steady rate in requests per second and a
// burst.
type Throttle struct {
	RateLimit  float64
	BurstLimit int
}

// logRetentionDays are the retention periods CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var kmsKeyARN = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$`)

// withDefaults is a with every zero value replaced by its default.
func (a Args) withDefaults() Args {
	if a.Arch == "" {
		a.Arch = DefaultArch
	}
	if a.KeyStore == "" {
		a.KeyStore = SecretStore
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = DefaultLogRetentionDays
	}
	if a.Throttle.RateLimit == 0 {
		a.Throttle.RateLimit = DefaultRateLimit
	}
	if a.Throttle.BurstLimit == 0 {
		a.Throttle.BurstLimit = DefaultBurstLimit
	}
	return a
}

// Validate reports the first setting API Gateway, Lambda, Secrets Manager
// or the authorizer would refuse, as an error wrapping ErrConfig (and
// api.ErrInvalid for the Definition's own errors).
func (a Args) Validate() error {
	a = a.withDefaults()
	if err := a.Definition.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if _, err := a.Arch.goarch(); err != nil {
		return err
	}
	if a.KeyStore != SecretStore && a.KeyStore != TableStore {
		return configErr("key store %q: want %q or %q", a.KeyStore, SecretStore, TableStore)
	}
	if err := a.validateClients(); err != nil {
		return err
	}
	if a.Definition.IsHTTP() {
		if err := a.httpRouteLimits(); err != nil {
			return err
		}
	}
	if w := a.RecoveryWindowInDays; w != 0 && (w < 7 || w > 30) {
		return configErr("recovery window %d days: want 0 (delete at once) or 7 to 30", w)
	}
	if a.KMSKeyARN != "" && !kmsKeyARN.MatchString(a.KMSKeyARN) {
		return configErr("KMS key %q: want a key ARN, arn:aws:kms:REGION:ACCOUNT:key/ID (not an alias)", a.KMSKeyARN)
	}
	if !slices.Contains(logRetentionDays, a.LogRetentionDays) {
		return configErr("log retention %d days: want one of %v", a.LogRetentionDays, logRetentionDays)
	}
	for _, name := range slices.Sorted(maps.Keys(a.ReservedConcurrency)) {
		if _, ok := a.Definition.Functions[name]; !ok {
			return configErr("reserved concurrency for %q: no such function", name)
		}
		if n := a.ReservedConcurrency[name]; n < 0 {
			return configErr("reserved concurrency for %q: %d: want 0 (unreserved) or more", name, n)
		}
	}
	if err := a.Throttle.validate("stage"); err != nil {
		return err
	}
	if err := a.Plans.Validate(a.Clients, &a.Definition); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if !a.Plans.Empty() && a.Definition.Functions[a.Definition.Authorizer.Function].Env[authorizer.EnvJWT] != "" {
		// A JWT's caller has no API key of a plan: with plans, every
		// guarded method requires one, and API Gateway would answer it
		// 403.
		return configErr("plans and jwt together: a caller with a JWT has no API key of a plan, and with plans every guarded route requires one (API Gateway would answer it 403 Forbidden); limit JWT callers with route throttles, or leave plans out")
	}
	if err := a.Monitoring.validate(&a.Definition); err != nil {
		return err
	}
	if a.Archives != nil {
		for _, name := range slices.Sorted(maps.Keys(a.Definition.Functions)) {
			if _, ok := a.Archives[name]; !ok {
				return configErr("no archive for function %q", name)
			}
		}
	}
	// The document, with stand-ins for the functions' invoke ARNs: one
	// that API Gateway's importer would refuse, or import in part
	// (api.CheckImport), stops the deploy here, before anything is
	// created, not at the import.
	if _, err := a.Definition.Document(api.DocumentOptions{IntegrationURI: api.LocalURI, UsagePlan: !a.Plans.Empty()}); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// validateClients checks the clients and their keys: names, per-client
// settings, the keyring they make (with stand-ins for generated keys) and
// the validation regex.
func (a Args) validateClients() error {
	if len(a.Clients) == 0 {
		return configErr("no clients: name at least one caller to give a key to")
	}
	seen := map[string]bool{}
	for i, c := range a.Clients {
		if err := authorizer.ValidateID(c); err != nil { // the keyring's own rule
			return configErr("client #%d: %v (not quoted: a key pasted as a name would be)", i+1, err)
		}
		if seen[c] {
			return configErr("client %q is listed twice", c)
		}
		seen[c] = true
	}
	// Every per-client setting names clients of Clients.
	for _, named := range []struct {
		what    string
		clients []string
	}{
		{"a key digest is supplied for", slices.Sorted(maps.Keys(a.KeyDigests))},
		{"routes are given for", slices.Sorted(maps.Keys(a.Routes))},
		{"a rotation is given for", slices.Sorted(maps.Keys(a.Rotations))},
		{"an expiry is given for", slices.Sorted(maps.Keys(a.Expiry))},
		{"disabling is asked for", a.Disabled},
	} {
		for _, c := range named.clients {
			if !seen[c] {
				return configErr("%s %q, which is not among the clients %q", named.what, c, a.Clients)
			}
		}
	}
	for _, c := range slices.Sorted(maps.Keys(a.Routes)) {
		if r := a.Routes[c]; r != nil && len(r) == 0 {
			return configErr("client %q: empty route list: leave the client out to allow every route, or list its routes", c)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(a.Rotations)) {
		switch {
		case a.KeyDigests[c] != "":
			return configErr("client %q: its key is supplied as a digest, so tollgate cannot rotate it: supply the new digest instead", c)
		case a.Rotations[c].N < 0:
			return configErr("client %q: rotation %d: want 0 or more", c, a.Rotations[c].N)
		}
	}
	if a.Rotation < 0 {
		return configErr("rotation %d: want 0 or more", a.Rotation)
	}
	for _, c := range a.Clients {
		g, deployed := a.generation(c), a.DeployedGenerations[c]
		if a.KeyDigests[c] == "" && g < deployed {
			return configErr("client %q: key generation %d (rotation %d + rotations.%s.n %d) is below the deployed %d: a rotation cannot be undone, since the key it replaced would work again; "+
				"to give the client a new key, rotate forward (rotations.%s.n %d)", c, g, a.Rotation, c, a.Rotations[c].N, deployed, c, deployed-a.Rotation+1)
		}
	}
	// The keyring's own rules, with stand-ins for the keys to generate.
	stand := keyMaterial{current: map[string]string{}, previous: map[string]string{}}
	for _, c := range a.Clients {
		stand.current[c] = authorizer.Digest("current-" + c)
		stand.previous[c] = authorizer.Digest("previous-" + c)
	}
	if !a.Plans.Empty() {
		stand.usage = map[string]string{}
		for _, c := range a.Clients {
			stand.usage[c] = strings.Repeat("u", usageKeyLength)
		}
	}
	kr := a.keyring(stand)
	if err := kr.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if a.KeyStore == TableStore {
		return a.keysPassValidationRegex() // an item per key: no keyring size
	}
	// The secret holds it, as stored (compact JSON, keyring in secret.go):
	// AWS would refuse a larger one only at the put, after the functions.
	b, err := json.Marshal(kr)
	if err != nil {
		return err
	}
	if err := authorizer.CheckKeyringSize(len(b), len(kr.Keys)); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := a.keysPassValidationRegex(); err != nil {
		return err
	}
	return nil
}

// jwtSample is a JWT as an identity provider issues one: with JWTs on
// (authorizer.EnvJWT), the validation regex must let it through too.
const jwtSample = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz_-"

// keysPassValidationRegex checks that API Gateway's validation regex lets
// generated keys through, as the header a client sends: the scheme (the
// authorizer's TOLLGATE_TOKEN_SCHEME, default Bearer) and a tollgate key;
// and, when the authorizer takes JWTs, a JWT the same way. A token it
// refused would be answered 401 before the authorizer ran
// (https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html).
// Keys supplied as digests cannot be checked.
func (a Args) keysPassValidationRegex() error {
	def := &a.Definition
	if def.Authorizer.Type != api.Token || def.Authorizer.ValidationRegex == "" {
		return nil
	}
	re, err := regexp.Compile(def.Authorizer.ValidationRegex)
	if err != nil {
		return nil // Definition.Validate reports it
	}
	env := def.Functions[def.Authorizer.Function].Env
	prefix := "Bearer "
	switch scheme := env[authorizer.EnvTokenScheme]; scheme {
	case "":
	case "none":
		prefix = ""
	default:
		prefix = scheme + " "
	}
	// Every character a generated key can hold, in a key of the format.
	sample, _ := authorizer.KeyFromRandom("0123456789abcdefxyzABCDEFGHXYZ09")
	if !re.MatchString(prefix + sample) {
		return configErr("the validation regex %s refuses tollgate keys (%s…, %d characters of letters, digits and _): API Gateway would answer 401 before the authorizer ran", def.Authorizer.ValidationRegex, authorizer.KeyPrefix, authorizer.KeyLength)
	}
	if env[authorizer.EnvJWT] != "" && !re.MatchString(prefix+jwtSample) {
		return configErr("the validation regex %s refuses JWTs (three base64url parts): API Gateway would answer 401 before the authorizer ran; widen it or remove it", def.Authorizer.ValidationRegex)
	}
	return nil
}

func (t Throttle) validate(what string) error {
	if err := api.Throttle(t).Check(); err != nil {
		return configErr("%s %v", what, err)
	}
	return nil
}

// keyMaterial is what the keyring of a deploy is made of, by client: the
// digest of its current key, of its previous key (with a generated key
// after its first rotation), and its usage key with a usage plan.
type keyMaterial struct {
	current, previous, usage map[string]string
}

// generation is client's rotation count: Rotation and its own.
func (a Args) generation(client string) int {
	return a.Rotation + a.Rotations[client].N
}

// keyring is the keyring a deploy writes: digests only. A client's
// previous key is listed while its PreviousUntil is set.
func (a Args) keyring(m keyMaterial) authorizer.Keyring {
	kr := authorizer.Keyring{Keys: make([]authorizer.Key, 0, len(a.Clients))}
	for _, c := range a.Clients {
		k := authorizer.Key{ID: c, SHA256: m.current[c], Routes: a.Routes[c], UsageKey: m.usage[c]}
		if d := a.KeyDigests[c]; d != "" {
			k.SHA256 = d
		}
		if t, ok := a.Expiry[c]; ok {
			t = t.UTC()
			k.Expires = &t
		}
		k.Disabled = slices.Contains(a.Disabled, c)
		if until := a.Rotations[c].PreviousUntil; !until.IsZero() && m.previous[c] != "" && a.KeyDigests[c] == "" {
			k.Previous = []authorizer.PreviousKey{{SHA256: m.previous[c], Until: until.UTC()}}
		}
		kr.Keys = append(kr.Keys, k)
	}
	return kr
}
