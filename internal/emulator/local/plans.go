package local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/emulator/gateway"
	"tollgate/plans"
)

// Stack is what a local run takes from a Pulumi stack's settings
// (Pulumi.<stack>.yaml), so that it limits clients as that stack's
// deploy does: its clients and its usage plans.
type Stack struct {
	Name    string
	Clients []string
	Plans   plans.Set
}

// ReadStack reads the stack's settings from Pulumi.<stack>.yaml in dir,
// under the project's namespace (Pulumi.yaml's name): clients (default
// ["default"], as Pulumi.yaml declares), plans and defaultPlan. Other
// settings are the deploy's.
func ReadStack(dir, stack string) (Stack, error) {
	s := Stack{Name: stack, Clients: []string{"default"}}
	var project struct {
		Name string `yaml:"name"`
	}
	if err := readYAML(filepath.Join(dir, "Pulumi.yaml"), &project); err != nil {
		return s, err
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	if err := readYAML(path, &file); err != nil {
		return s, err
	}
	setting := func(key string, dst any) error {
		v, ok := file.Config[project.Name+":"+key]
		if !ok {
			return nil
		}
		b, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(b, dst)
		}
		if err != nil {
			return fmt.Errorf("%s: %s:%s: not of the declared type", path, project.Name, key)
		}
		return nil
	}
	if err := setting("clients", &s.Clients); err != nil {
		return s, err
	}
	var raw any
	if err := setting("plans", &raw); err != nil {
		return s, err
	}
	if raw != nil {
		b, _ := json.Marshal(raw)
		var err error
		if s.Plans.Plans, err = plans.ParsePlans(string(b)); err != nil {
			return s, fmt.Errorf("%s: %s:plans: %w", path, project.Name, err)
		}
	}
	if err := setting("defaultPlan", &s.Plans.Default); err != nil {
		return s, err
	}
	return s, nil
}

func readYAML(path string, dst any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// checkPlans refuses plans the deploy would refuse (plans.Set.Validate),
// and plans whose API keys the local gateway could not know: they are in
// the keyring it serves, so the secret must be the local one.
func checkPlans(cfg Config, def api.Definition) error {
	if cfg.Stack == nil || cfg.Stack.Plans.Empty() {
		return nil
	}
	if cfg.JWT != "" || cfg.JWTLocal {
		return errors.New("usage plans (-stack) and JWTs together: a caller with a JWT has no API key of a plan, and with plans every guarded route requires one")
	}
	if cfg.SecretsEndpoint != "" {
		return errors.New("usage plans (-stack) need the keyring served here, the default or -keys FILE: the local gateway reads each client's API key from it")
	}
	if err := cfg.Stack.Plans.Validate(cfg.Stack.Clients, &def); err != nil {
		return fmt.Errorf("stack %s: %w", cfg.Stack.Name, err)
	}
	return nil
}

// apiKeyID is the id the local gateway gives the API key of a usage key:
// 10 characters, as API Gateway's ids, that do not reveal the key.
func apiKeyID(usageKey string) string {
	sum := sha256.Sum256([]byte(usageKey))
	return hex.EncodeToString(sum[:])[:10]
}

// apiKeys are the API keys of the usage plans, by value: each keyring key
// with a usage key, on the plan the keyring names for it, else the
// stack's plan of its client. Keys without a usage key, or whose client
// is on no plan, are on none: the gateway answers them 403, as API
// Gateway answers a key on no plan of the stage.
func apiKeys(set plans.Set, kr authorizer.Keyring) map[string]gateway.APIKey {
	out := map[string]gateway.APIKey{}
	for _, k := range kr.Keys {
		if k.UsageKey == "" {
			continue
		}
		plan := k.Plan
		if plan == "" {
			plan = set.Of(k.ID)
		}
		out[k.UsageKey] = gateway.APIKey{ID: apiKeyID(k.UsageKey), Client: k.ID, Plan: plan}
	}
	return out
}

// planWarnings name the keys a local run with plans will refuse.
func planWarnings(set plans.Set) func(authorizer.Keyring) []string {
	return func(kr authorizer.Keyring) []string {
		var out []string
		for _, k := range kr.Keys {
			switch {
			case k.UsageKey == "":
				out = append(out, fmt.Sprintf("key %q has no usageKey: with plans, every guarded route needs one, and it will be answered 403", k.ID))
			case k.Plan != "" && !slices.Contains(set.Names(), k.Plan):
				out = append(out, fmt.Sprintf("key %q is on plan %q, which the stack does not declare: it will be answered 403", k.ID, k.Plan))
			}
		}
		return out
	}
}

// stackKeyring returns StateDir/keyring-<stack>.json, generating it the
// first time with a new key and usage key for each of the stack's
// clients, and printing the keys, once.
func stackKeyring(cfg Config) (string, error) {
	st := cfg.Stack
	path := filepath.Join(cfg.StateDir, "keyring-"+st.Name+".json")
	if _, err := os.Stat(path); err == nil {
		fmt.Fprintf(cfg.Out, "Keys of stack %s's clients: %s (digests; the keys were shown once, when it was made: delete the file for new ones)\n", st.Name, path)
		return path, nil
	}
	if err := privateDir(cfg.StateDir); err != nil {
		return "", err
	}
	kr := authorizer.Keyring{}
	var exports []string
	for _, c := range st.Clients {
		key := authorizer.NewKey()
		kr.Keys = append(kr.Keys, authorizer.Key{ID: c, SHA256: authorizer.Digest(key), UsageKey: newUsageKey()})
		exports = append(exports, fmt.Sprintf("    export %s=%s   # %s, on plan %s", KeyVariable(c), key, c, st.Plans.Of(c)))
	}
	doc, err := json.MarshalIndent(kr, "", "  ")
	if err != nil {
		return "", err
	}
	if _, err := authorizer.ParseKeyring(doc); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(doc, '\n'), 0o600); err != nil {
		return "", err
	}
	fmt.Fprintf(cfg.Out, "Generated a key for each client of stack %s in %s. They are shown only now:\n\n%s\n\n", st.Name, path, strings.Join(exports, "\n"))
	return path, nil
}

// KeyVariable is the shell variable a generated key of client is shown
// in: TOLLGATE_KEY for the client named default, else TOLLGATE_KEY_ and
// the client's name in upper case, with _ for what a variable name
// cannot hold.
func KeyVariable(client string) string {
	if client == "default" {
		return "TOLLGATE_KEY"
	}
	return "TOLLGATE_KEY_" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, client)
}

// newUsageKey is a new API Gateway API key value: letters and digits
// only, as the deploy generates them.
func newUsageKey() string {
	k := authorizer.NewKey() // tgk_ and 38 letters and digits
	return "tgu" + k[len(authorizer.KeyPrefix):]
}
