package leakscan

import (
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	const key = "tg_0123456789abcdefghijklmnopqrstuvwxyz"
	s := New(key, "short", "")
	logs := strings.Join([]string{
		`{"msg":"decision","outcome":"allow","principal":"mobile-app"}`,
		`{"msg":"decision","token":"` + key + `"}`,                 // whole
		`{"msg":"bad header","value":"Bearer ` + key[5:20] + `…"}`, // 15 bytes of it
		`{"msg":"fine","value":"` + key[:Window-1] + `"}`,          // one byte short of a run
		`{"msg":"short secret: short"}`,
		strings.Repeat("x", 200<<10) + key[10:30], // a line longer than any buffer
		`last line without a newline`,
	}, "\n")
	lines, leaks, err := s.Scan(strings.NewReader(logs))
	if err != nil {
		t.Fatal(err)
	}
	if lines != 7 {
		t.Errorf("read %d lines, want 7", lines)
	}
	var got []int
	for _, l := range leaks {
		got = append(got, l.Line)
		if l.Line == 5 && (l.Secret != 1 || l.Run != "short") {
			t.Errorf("line 5: %+v, want the short secret", l)
		}
		if l.Line != 5 && l.Secret != 0 {
			t.Errorf("%v: want secret 0", l)
		}
	}
	if want := []int{2, 3, 5, 6}; !equal(got, want) {
		t.Errorf("leaking lines %v, want %v", got, want)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
