package local

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"tollgate/internal/emf"
)

// What an operator reads of a local run, as of a deployed one:
//
//   - the access log, written to AccessLogFile in the state directory as
//     well as to Config.AccessLog, one JSON line per request in the
//     deployed format, which `tollkeys last-used -local` reads as it reads
//     the stage's log group on AWS;
//   - the metrics the functions' log lines carry in CloudWatch's embedded
//     metric format (the authorizer's decisions, cold starts, keyring
//     age and refreshes: authorizer.Metrics), summed as CloudWatch would
//     extract them, at GET MetricsPath on the control endpoint.

// AccessLogFile is where a local run with state directory stateDir
// appends its access log; past maxAccessLog bytes it is moved to
// AccessLogFile+".1" (replacing the one before) and begun again.
func AccessLogFile(stateDir string) string { return filepath.Join(stateDir, "access.log") }

const maxAccessLog = 64 << 20

// MetricsPath is the control endpoint's path of the run's metric sums.
const MetricsPath = "/tollgate/metrics"

// accessLogFile appends the access log to its file, rotating it.
type accessLogFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
	size int64
}

func openAccessLog(stateDir string) (*accessLogFile, error) {
	a := &accessLogFile{path: AccessLogFile(stateDir)}
	return a, a.open()
}

func (a *accessLogFile) open() error {
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return err
	}
	a.f, a.size = f, st.Size()
	return nil
}

// Write appends one line (the gateway writes each line in one call). A
// line that cannot be written is dropped: the access log must not change
// an answer.
func (a *accessLogFile) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return len(p), nil
	}
	if a.size+int64(len(p)) > maxAccessLog {
		_ = a.f.Close()
		a.f = nil
		if err := os.Rename(a.path, a.path+".1"); err != nil || a.open() != nil {
			return len(p), nil
		}
	}
	n, _ := a.f.Write(p)
	a.size += int64(n)
	return len(p), nil
}

func (a *accessLogFile) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// MetricSum is one metric series of a local run: its namespace, name,
// dimensions and the sum of its values (a count, for a Count metric;
// for KeyringAge, the sum of the ages it was read at, Max the largest).
type MetricSum struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Unit       string            `json:"unit"`
	Dimensions map[string]string `json:"dimensions"`
	Sum        float64           `json:"sum"`
	Max        float64           `json:"max"`
	Count      int64             `json:"count"`
}

// metricSums sums the embedded metrics of the functions' log lines, each
// "[function n] line" as the pools write them.
type metricSums struct {
	mu     sync.Mutex
	series map[string]*MetricSum
}

func (s *metricSums) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		i := bytes.IndexByte(line, '{')
		if i < 0 {
			continue
		}
		values, err := emf.Parse(bytes.TrimSpace(line[i:]))
		if err != nil {
			continue // CloudWatch would extract nothing either
		}
		s.mu.Lock()
		if s.series == nil {
			s.series = map[string]*MetricSum{}
		}
		for _, v := range values {
			m := s.series[v.Key()]
			if m == nil {
				m = &MetricSum{Namespace: v.Namespace, Name: v.Name, Unit: v.Unit, Dimensions: v.Dimensions}
				s.series[v.Key()] = m
			}
			m.Sum += v.Value
			m.Max = max(m.Max, v.Value)
			m.Count++
		}
		s.mu.Unlock()
	}
	return len(p), nil
}

// Metrics are the run's metric series so far, by series key.
func (s *metricSums) Metrics() []MetricSum {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MetricSum
	for _, k := range slices.Sorted(maps.Keys(s.series)) {
		m := *s.series[k]
		m.Dimensions = maps.Clone(m.Dimensions)
		out = append(out, m)
	}
	return out
}

func (s *metricSums) serveHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"metrics": s.Metrics()})
}

// observe tees the run's access log to its file and the functions' output
// to the metric sums.
func (m *Main) observe() error {
	f, err := openAccessLog(m.cfg.StateDir)
	if err != nil {
		return errors.Join(errors.New("access log file"), err)
	}
	m.accessLog = f
	m.cfg.AccessLog = io.MultiWriter(m.cfg.AccessLog, f)
	m.cfg.FunctionLogs = io.MultiWriter(m.cfg.FunctionLogs, &m.metrics)
	return nil
}
