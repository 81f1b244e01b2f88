package authorizer

// The scanner tests the eight bytes of a 64-bit word at once ("SIMD within
// a register"), with the exact tests of Bit Twiddling Hacks
// (https://graphics.stanford.edu/~seander/bithacks.html#HasLessInWord).
//
// Each function returns the high bit of every flagged lane. A borrow can
// flag a lane above a truly flagged one, never below, so the lowest flagged
// lane, bits.TrailingZeros64(m)/8 on a little-endian load, is exact, and so
// is whether any lane is flagged.

const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// jsonSpecial flags the lanes of w that cannot stand as themselves in a
// JSON string: control characters (below 0x20), the quote and the
// backslash. Bytes of 0x80 and above are never flagged.
func jsonSpecial(w uint64) uint64 {
	return laneLess(w, 0x20) | laneEqual(w, '"') | laneEqual(w, '\\')
}

// laneLess flags the lanes below n (n at most 0x80).
func laneLess(w uint64, n byte) uint64 { return (w - lanes01*uint64(n)) &^ w & lanes80 }

// laneEqual flags the lanes equal to c.
func laneEqual(w uint64, c byte) uint64 {
	x := w ^ lanes01*uint64(c)
	return (x - lanes01) &^ x & lanes80
}
