package authorizer

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// specialBytes must find the first byte that is a control character, a
// quote or a backslash in every 8-byte word; check it against a byte loop
// over words built from the bytes that matter and their neighbours.
func TestSpecialBytes(t *testing.T) {
	interesting := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '\\', ']', '[', 0x5b, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a'}
	check := func(w [8]byte) {
		want := 8
		for i, c := range w {
			if !strPlain[c] {
				want = i
				break
			}
		}
		m := specialBytes(binary.LittleEndian.Uint64(w[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != want {
			t.Fatalf("specialBytes(%q): first special byte at %d, want %d", w, got, want)
		}
	}
	// Every pair of interesting bytes at every pair of positions, in a
	// word of plain bytes.
	for i := range 8 {
		for j := range 8 {
			for _, a := range interesting {
				for _, b := range interesting {
					w := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
					w[i], w[j] = a, b
					check(w)
				}
			}
		}
	}
}

func FuzzSpecialBytes(f *testing.F) {
	f.Add(uint64(0x2222222222222222))
	f.Fuzz(func(t *testing.T, x uint64) {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], x)
		want := 8
		for i, c := range w {
			if !strPlain[c] {
				want = i
				break
			}
		}
		got := 8
		if m := specialBytes(x); m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != want {
			t.Fatalf("specialBytes(%q) = lane %d, want %d", w, got, want)
		}
	})
}
