// Package leakscan finds secrets in logs: every line is searched for each
// secret and for every run of Window bytes taken from one, so that a
// secret cut short, or quoted in part, is found as well as a whole one.
package leakscan

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Window is the length of the runs searched for: long enough that a random
// key's run is not found in log text by chance, short enough to catch a key
// logged in part (the tail of a truncated value, a prefix "for debugging").
const Window = 12

// Scanner searches for the secrets it was made with.
type Scanner struct {
	runs  map[string]int // each run of Window bytes, to the index of its secret
	short []string       // secrets shorter than Window, by index in shortIx
	ix    []int
}

// New returns a Scanner for secrets. A secret shorter than Window is
// searched for whole.
func New(secrets ...string) *Scanner {
	s := &Scanner{runs: map[string]int{}}
	for i, sec := range secrets {
		if len(sec) < Window {
			if sec != "" {
				s.short, s.ix = append(s.short, sec), append(s.ix, i)
			}
			continue
		}
		for j := 0; j+Window <= len(sec); j++ {
			s.runs[sec[j:j+Window]] = i
		}
	}
	return s
}

// Leak is a line that holds a secret, or part of one.
type Leak struct {
	Line   int // from 1
	Secret int // its index in the secrets New was given
	Run    string
}

func (l Leak) String() string {
	return fmt.Sprintf("line %d holds %d bytes of secret %d", l.Line, len(l.Run), l.Secret)
}

// Line reports the first run of a secret in line, if there is one.
func (s *Scanner) Line(line []byte) (run string, secret int, found bool) {
	for i := 0; i+Window <= len(line); i++ {
		if sec, ok := s.runs[string(line[i:i+Window])]; ok {
			return string(line[i : i+Window]), sec, true
		}
	}
	for j, sec := range s.short {
		if bytes.Contains(line, []byte(sec)) {
			return sec, s.ix[j], true
		}
	}
	return "", 0, false
}

// Scan reads r line by line (lines of any length) and returns how many
// lines it read and every line that leaks.
func (s *Scanner) Scan(r io.Reader) (lines int, leaks []Leak, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lines++
			if run, sec, ok := s.Line(line); ok {
				leaks = append(leaks, Leak{Line: lines, Secret: sec, Run: run})
			}
		}
		if err == io.EOF {
			return lines, leaks, nil
		}
		if err != nil {
			return lines, leaks, err
		}
	}
}
