// Package localddb is an in-memory DynamoDB endpoint for key tables, on
// loopback: the calls the authorizer, tollkeys's table commands and the
// local run make of a table keyed by one string attribute (GetItem,
// PutItem, DeleteItem, BatchWriteItem, Scan,
// DescribeTable, CreateTable), in AWS's JSON 1.0 protocol
// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/). It
// is for measurements: it answers in microseconds where DynamoDB takes
// milliseconds, so what it times is tollgate's own work, and it holds
// 100,000 keys where moto_server would take minutes to load them. Tests
// of the protocol run against moto_server. It checks no signature.
package localddb

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"tollgate/authorizer"
)

// Server is the endpoint. Its zero value is not usable: see New.
type Server struct {
	mu     sync.RWMutex
	tables map[string]map[string]map[string]authorizer.Attr // table → hash key value → item

	// GetItems counts GetItem calls answered.
	GetItems atomic.Int64
}

// hashKey is the one key schema served: the key tables'.
const hashKey = "sha256"

// New is an endpoint with no table.
func New() *Server { return &Server{tables: map[string]map[string]map[string]authorizer.Attr{}} }

// CreateTable creates table, empty (nothing if it exists).
func (s *Server) CreateTable(table string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tables[table] == nil {
		s.tables[table] = map[string]map[string]authorizer.Attr{}
	}
}

// Put writes items into table, creating it.
func (s *Server) Put(table string, items ...authorizer.KeyItem) {
	s.CreateTable(table)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		s.tables[table][it.SHA256] = it.Item()
	}
}

// Len is the number of items in table.
func (s *Server) Len(table string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tables[table])
}

type request struct {
	TableName    string
	Key          map[string]authorizer.Attr
	Item         map[string]authorizer.Attr
	RequestItems map[string][]struct {
		PutRequest *struct{ Item map[string]authorizer.Attr }
	}
	Select string
}

// ServeHTTP answers one call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	var req request
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	op := r.Header.Get("X-Amz-Target")
	const prefix = "DynamoDB_20120810."
	if len(op) <= len(prefix) || op[:len(prefix)] != prefix {
		fail(w, http.StatusBadRequest, "UnknownOperationException", "no X-Amz-Target")
		return
	}
	op = op[len(prefix):]
	if op == "CreateTable" {
		s.CreateTable(req.TableName)
		answer(w, map[string]any{"TableDescription": map[string]any{"TableName": req.TableName, "TableStatus": "ACTIVE"}})
		return
	}
	if op == "BatchWriteItem" {
		s.batchWrite(w, req)
		return
	}
	if op == "PutItem" || op == "DeleteItem" {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else { // reads do not wait for each other: the load's GetItems
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	t, ok := s.tables[req.TableName]
	if !ok {
		fail(w, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found")
		return
	}
	switch op {
	case "DescribeTable":
		answer(w, map[string]any{"Table": map[string]any{"TableName": req.TableName, "TableStatus": "ACTIVE", "ItemCount": len(t)}})
	case "GetItem":
		s.GetItems.Add(1)
		key := req.Key[hashKey]
		if key.S == nil {
			fail(w, http.StatusBadRequest, "ValidationException", "The provided key element does not match the schema")
			return
		}
		if it, ok := t[*key.S]; ok {
			answer(w, map[string]any{"Item": it})
			return
		}
		answer(w, map[string]any{})
	case "PutItem":
		key := req.Item[hashKey]
		if key.S == nil {
			fail(w, http.StatusBadRequest, "ValidationException", "One of the required keys was not given a value")
			return
		}
		t[*key.S] = req.Item
		answer(w, map[string]any{})
	case "DeleteItem":
		if key := req.Key[hashKey]; key.S != nil {
			delete(t, *key.S)
		}
		answer(w, map[string]any{})
	case "Scan":
		if req.Select == "COUNT" {
			answer(w, map[string]any{"Count": len(t), "ScannedCount": len(t)})
			return
		}
		items := make([]map[string]authorizer.Attr, 0, len(t))
		for _, it := range t {
			items = append(items, it)
		}
		answer(w, map[string]any{"Items": items, "Count": len(items)})
	default:
		fail(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("%s is not served here", op))
	}
}

func (s *Server) batchWrite(w http.ResponseWriter, req request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for table, reqs := range req.RequestItems {
		t, ok := s.tables[table]
		if !ok {
			fail(w, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found")
			return
		}
		for _, r := range reqs {
			if r.PutRequest == nil || r.PutRequest.Item[hashKey].S == nil {
				fail(w, http.StatusBadRequest, "ValidationException", "a request is not a PutRequest with the key")
				return
			}
			t[*r.PutRequest.Item[hashKey].S] = r.PutRequest.Item
		}
	}
	answer(w, map[string]any{"UnprocessedItems": map[string]any{}})
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + code, "message": msg})
}
