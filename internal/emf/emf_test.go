package emf

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	good := `{"function":"f","outcome":"deny","reason":"unknown key","Decisions":1,"_aws":{"Timestamp":1796200000000,` +
		`"CloudWatchMetrics":[{"Namespace":"tollgate","Dimensions":[["function","outcome"],["function","reason"]],"Metrics":[{"Name":"Decisions","Unit":"Count"}]}]}}`
	vs, err := Parse([]byte(good))
	if err != nil || len(vs) != 2 || vs[0].Key() != "Decisions function=f outcome=deny" || vs[1].Key() != "Decisions function=f reason=unknown key" || vs[0].Value != 1 {
		t.Fatalf("Parse = %+v, %v", vs, err)
	}
	for _, plain := range []string{`{"msg":"hello"}`, `not json`, ``} {
		if vs, err := Parse([]byte(plain)); vs != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want nothing", plain, vs, err)
		}
	}
	for name, bad := range map[string]string{
		"no timestamp":       `{"x":1,"_aws":{"CloudWatchMetrics":[{"Namespace":"n","Metrics":[{"Name":"x"}]}]}}`,
		"no namespace":       `{"x":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Metrics":[{"Name":"x"}]}]}}`,
		"metric missing":     `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Metrics":[{"Name":"x"}]}]}}`,
		"metric a string":    `{"x":"1","_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Metrics":[{"Name":"x"}]}]}}`,
		"dimension missing":  `{"x":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["fn"]],"Metrics":[{"Name":"x"}]}]}}`,
		"dimension a number": `{"x":1,"fn":2,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["fn"]],"Metrics":[{"Name":"x"}]}]}}`,
		"no directives":      `{"x":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[]}}`,
		"_aws not an object": `{"x":1,"_aws":[]}`,
	} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// FuzzParse: any line parses to values or an error, never a panic, and
// every value names a metric of its namespace.
func FuzzParse(f *testing.F) {
	f.Add(`{"x":1,"fn":"a","_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["fn"]],"Metrics":[{"Name":"x","Unit":"Count"}]}]}}`)
	f.Fuzz(func(t *testing.T, line string) {
		vs, err := Parse([]byte(line))
		for _, v := range vs {
			if err != nil || v.Namespace == "" || v.Name == "" {
				t.Fatalf("value %+v with error %v", v, err)
			}
		}
	})
}
