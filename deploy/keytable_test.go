package deploy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/testkit/pulumimock"
	"tollgate/plans"
)

const (
	tTable     = "aws:dynamodb/table:Table"
	tTableItem = "aws:dynamodb/tableItem:TableItem"
	tableARN   = "arn:aws:dynamodb:" + pulumimock.Region + ":" + pulumimock.Account + ":table/tollgate-dev-keys"
)

func tableArgs(t *testing.T) Args {
	args := testArgs(t)
	args.KeyStore = TableStore
	return args
}

// tableKeys are the items the stack wrote, read as the authorizer reads
// them, by digest.
func tableKeys(t *testing.T, m *mocks) map[string]authorizer.KeyItem {
	t.Helper()
	out := map[string]authorizer.KeyItem{}
	for _, r := range m.Of(tTableItem) {
		if r.Str("tableName") != "tollgate-dev-keys" || r.Str("hashKey") != "sha256" || !r.Secrets["item"] {
			t.Errorf("item %s: table %q, hash key %q, secret %v", r.Name, r.Str("tableName"), r.Str("hashKey"), r.Secrets["item"])
		}
		var raw map[string]authorizer.Attr
		if err := json.Unmarshal([]byte(r.Str("item")), &raw); err != nil {
			t.Fatal(err)
		}
		it, err := authorizer.KeyItemOf(raw)
		if err != nil {
			t.Fatalf("item %s: %v", r.Name, err)
		}
		out[it.SHA256] = it
	}
	return out
}

// keyStore: dynamodb makes the table as issue 32 asks (on demand,
// encrypted, point-in-time recovery, deletion protection), no secret, an
// item per key of the stack's clients, and an authorizer that may read
// one item of that table and nothing else.
func TestKeyTableStack(t *testing.T) {
	args := tableArgs(t)
	args.Routes = map[string][]string{"reports": {"GET /customers"}}
	m, a := mustRun(t, args)
	if len(m.Of(tSecret)) != 0 || len(m.Of(tSecretVersion)) != 0 {
		t.Error("a secret with the key table")
	}
	table := m.One(t, tTable)
	for prop, want := range map[string]any{
		"name": "tollgate-dev-keys", "billingMode": "PAY_PER_REQUEST", "hashKey": "sha256", "deletionProtectionEnabled": true,
	} {
		if table.Inputs[prop] != want {
			t.Errorf("table %s = %v, want %v", prop, table.Inputs[prop], want)
		}
	}
	if table.Obj("serverSideEncryption")["enabled"] != true || table.Obj("pointInTimeRecovery")["enabled"] != true {
		t.Errorf("table encryption %v, recovery %v: want both on", table.Inputs["serverSideEncryption"], table.Inputs["pointInTimeRecovery"])
	}
	keys := await[map[string]string](t, a.APIKeys)
	items := tableKeys(t, m)
	if len(items) != 2 {
		t.Fatalf("%d items, want one per client", len(items))
	}
	for c, key := range keys {
		it, ok := items[authorizer.Digest(key)]
		if !ok || it.ID != c || it.Stack != "dev" {
			t.Errorf("client %s: item %+v (found %v), want its key's, marked the stack's", c, it, ok)
		}
		if strings.Contains(m.Named(t, tTableItem, "tollgate-dev-key-item-"+c).Str("item"), key) {
			t.Errorf("client %s: its key is in its item", c)
		}
	}
	if it := items[authorizer.Digest(keys["reports"])]; !slices.Equal(it.Routes, []string{"GET /customers"}) {
		t.Errorf("reports's routes = %q", it.Routes)
	}
	fn := m.Named(t, tFunction, "tollgate-dev-authorizer")
	env := fn.Obj("environment")["variables"].(map[string]any)
	if env[authorizer.EnvKeyTable] != "tollgate-dev-keys" || env[authorizer.EnvSecretID] != nil {
		t.Errorf("authorizer environment %v: want the table, no secret", env)
	}
	var reads []Statement
	for _, s := range policyOf(t, m.Named(t, tRolePolicy, "tollgate-dev-authorizer")).Statement {
		if !slices.Contains(s.Action, "logs:PutLogEvents") {
			reads = append(reads, s)
		}
	}
	if len(reads) != 1 || !slices.Equal(reads[0].Action, []string{"dynamodb:GetItem"}) || !slices.Equal(reads[0].Resource, []string{tableARN}) {
		t.Errorf("the authorizer may %+v; want dynamodb:GetItem on the table alone", reads)
	}
	if got := await[string](t, a.KeyTableName); got != "tollgate-dev-keys" {
		t.Errorf("keyTable output %q", got)
	}
	// The function waits for the items: a new instance finds its keys.
	deps := fn.RPC.GetDependencies()
	for _, r := range m.Of(tTableItem) {
		if !slices.ContainsFunc(deps, func(u string) bool { return strings.HasSuffix(u, "::"+r.Name) }) {
			t.Errorf("the authorizer does not wait for %s", r.Name)
		}
	}
	// With a customer key: the table is encrypted with it, and the
	// authorizer may decrypt through DynamoDB only.
	args.KMSKeyARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	m, _ = mustRun(t, args)
	if got := m.One(t, tTable).Obj("serverSideEncryption")["kmsKeyArn"]; got != args.KMSKeyARN {
		t.Errorf("table key %v", got)
	}
	found := false
	for _, s := range policyOf(t, m.Named(t, tRolePolicy, "tollgate-dev-authorizer")).Statement {
		if slices.Contains(s.Action, "kms:Decrypt") {
			found = s.Condition["StringEquals"]["kms:ViaService"] == "dynamodb.eu-west-1.amazonaws.com"
		}
	}
	if !found {
		t.Error("no kms:Decrypt through DynamoDB for the customer key")
	}
}

// A rotation with a grace on the table: the new slot's item is created,
// the old key's item updated in place (it keeps its digest and gains its
// grace): no key's item is deleted or replaced while the key works.
func TestKeyTableRotation(t *testing.T) {
	base := tableArgs(t)
	before, a0 := mustRun(t, base)
	oldKey := await[map[string]string](t, a0.APIKeys)["reports"]
	args := tableArgs(t)
	args.Archives = base.Archives
	until := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	args.Rotations = map[string]Rotation{"reports": {N: 1, PreviousUntil: until}}
	after, a1 := mustRun(t, args)
	diff := pulumimock.Diff(before, after)
	if diff[tTableItem+" tollgate-dev-key-item-reports-b"] != pulumimock.Create || diff[tTableItem+" tollgate-dev-key-item-reports"] != pulumimock.Update {
		t.Errorf("rotation: %v", diff)
	}
	if c := pulumimock.Conflicts(before, after); len(c) > 0 {
		t.Errorf("conflicts: %v", c)
	}
	items := tableKeys(t, after)
	newKey := await[map[string]string](t, a1.APIKeys)["reports"]
	if it := items[authorizer.Digest(oldKey)]; !it.Until.Equal(until) || it.ID != "reports" {
		t.Errorf("the old key's item %+v, want its grace", it)
	}
	if it := items[authorizer.Digest(newKey)]; !it.Until.IsZero() || it.ID != "reports" {
		t.Errorf("the new key's item %+v", it)
	}
}

// Deletion protection: DynamoDB refuses to delete a protected table, so
// pulumi destroy stops there; turned off, the destroy goes through.
func TestKeyTableDeletionProtection(t *testing.T) {
	args := tableArgs(t)
	m, _ := mustRun(t, args)
	if got := pulumimock.Undeletable(m, nil); !slices.Equal(got, []string{tTable + " tollgate-dev"}) && !slices.Equal(got, []string{tTable + " tollgate-dev-keys"}) {
		t.Errorf("destroy of a protected table: undeletable %v", got)
	}
	args.KeyTableUnprotected = true
	m, _ = mustRun(t, args)
	if got := pulumimock.Undeletable(m, nil); len(got) != 0 {
		t.Errorf("destroy with protection off: undeletable %v", got)
	}
}

// Moving a stack from the secret to the table, and back, as updates
// (docs/keys.md, Moving between stores): no generated key is replaced, the
// table's items hold exactly the keyring's keys (and back, the keyring
// the items'), the authorizer is updated in place; back, a protected
// table refuses the delete until protection is turned off.
func TestMoveBetweenStores(t *testing.T) {
	secretArgs := testArgs(t)
	secretArgs.Rotations = map[string]Rotation{"reports": {N: 1, PreviousUntil: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}}
	secretArgs.Routes = map[string][]string{"mobile": {"GET /hello"}}
	onSecret, _ := mustRun(t, secretArgs)
	move := func(change func(*Args)) *mocks {
		a := testArgs(t)
		a.Archives = secretArgs.Archives
		a.Rotations, a.Routes = secretArgs.Rotations, secretArgs.Routes
		change(&a)
		m, _ := mustRun(t, a)
		return m
	}
	onTable := move(func(a *Args) { a.KeyStore = TableStore })
	unprotected := move(func(a *Args) { a.KeyStore, a.KeyTableUnprotected = TableStore, true })

	// The keys: the keyring's digests are the items', entry for entry.
	kr := storedKeyring(t, onSecret)
	items := tableKeys(t, onTable)
	want, err := authorizer.KeyItems(kr)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(want) {
		t.Fatalf("%d items, the keyring has %d keys", len(items), len(want))
	}
	for _, w := range want {
		got := items[w.SHA256]
		got.Stack = ""
		if g, _ := json.Marshal(got.Item()); string(g) != string(mustJSON(t, w.Item())) {
			t.Errorf("key of %s: item %s, want %s", w.ID, g, mustJSON(t, w.Item()))
		}
	}

	for _, step := range []struct {
		name        string
		from, to    *mocks
		undeletable []string
	}{
		{"secret to table", onSecret, onTable, nil},
		{"table to secret, protected", onTable, onSecret, []string{tTable + " tollgate-dev-keys"}},
		{"table to secret, protection off first", unprotected, onSecret, nil},
	} {
		diff := pulumimock.Diff(step.from, step.to)
		for key, c := range diff {
			if strings.HasPrefix(key, tPassword) {
				t.Errorf("%s: %s %s: a key would change", step.name, key, c)
			}
		}
		if diff[tFunction+" tollgate-dev-authorizer"] != pulumimock.Update {
			t.Errorf("%s: the authorizer is %v, want updated in place", step.name, diff[tFunction+" tollgate-dev-authorizer"])
		}
		if c := pulumimock.Conflicts(step.from, step.to); len(c) > 0 {
			t.Errorf("%s: conflicts %v", step.name, c)
		}
		if got := pulumimock.Undeletable(step.from, diff); !slices.Equal(got, step.undeletable) {
			t.Errorf("%s: undeletable %v, want %v (%s)", step.name, got, step.undeletable, pulumimock.SrcDeletionProtection)
		}
	}
	// Turning protection off is an update of the table, nothing else.
	if diff := pulumimock.Diff(onTable, unprotected); len(diff) != 1 || diff[tTable+" tollgate-dev-keys"] != pulumimock.Update {
		t.Errorf("protection off: %v", diff)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An HTTP API keeps its keys in the table the same way, with usage plans
// on a REST API the stack's clients' items carry their usage keys.
func TestKeyTableWithHTTPAPIAndPlans(t *testing.T) {
	h := httpArgs(t)
	h.KeyStore = TableStore
	m, _ := mustRun(t, h)
	if len(m.Of(tTableItem)) != len(h.Clients) || len(m.Of(tSecret)) != 0 {
		t.Errorf("HTTP API: %d items for %d clients, %d secrets", len(m.Of(tTableItem)), len(h.Clients), len(m.Of(tSecret)))
	}
	r := tableArgs(t)
	r.Plans = onePlan(plans.Plan{})
	m, _ = mustRun(t, r)
	for _, it := range tableKeys(t, m) {
		if len(it.UsageKey) != usageKeyLength {
			t.Errorf("client %s's item has usage key %q, want its plan's API key", it.ID, it.UsageKey)
		}
	}
}
