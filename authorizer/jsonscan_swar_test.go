package authorizer

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

func special(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }

// firstFlagged returns the lane JSONSpecial reports first, or 8.
func firstFlagged(w [8]byte) int {
	m := jsonSpecial(binary.LittleEndian.Uint64(w[:]))
	if m == 0 {
		return 8
	}
	return bits.TrailingZeros64(m) >> 3
}

func firstSpecial(w [8]byte) int {
	for i, c := range w {
		if special(c) {
			return i
		}
	}
	return 8
}

// Every pair of bytes that matter, including ones that borrow (0x00, 0x01,
// 0x20, 0x21, the quote and backslash and their neighbours) and high bytes,
// at every pair of positions.
func TestSWARJSONSpecial(t *testing.T) {
	interesting := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '[', '\\', ']', 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a'}
	for i := range 8 {
		for j := range 8 {
			for _, a := range interesting {
				for _, b := range interesting {
					w := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
					w[i], w[j] = a, b
					if got, want := firstFlagged(w), firstSpecial(w); got != want {
						t.Fatalf("jsonSpecial(%q): first flagged lane %d, want %d", w, got, want)
					}
				}
			}
		}
	}
}

func FuzzSWARJSONSpecial(f *testing.F) {
	f.Add(uint64(0x2222222222222222))
	f.Add(uint64(0x5c00215c20011f80))
	f.Fuzz(func(t *testing.T, x uint64) {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], x)
		if got, want := firstFlagged(w), firstSpecial(w); got != want {
			t.Fatalf("jsonSpecial(%q) = lane %d, want %d", w, got, want)
		}
	})
}
