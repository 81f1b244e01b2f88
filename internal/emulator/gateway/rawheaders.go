package gateway

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/textproto"
	"sync"
)

// API Gateway passes header names to the authorizer's REQUEST event and to
// the integration's proxy event as the client wrote them
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
// shows "headers" as sent). net/http canonicalises them ("x-lower-case"
// becomes "X-Lower-Case"), so Serve reads each connection through a
// recorder, and a request's original names are found in the bytes of its
// header block.

// Serve serves g with srv on ln, keeping the header names each client
// wrote. (ServeHTTP alone, under another server, sees only canonical
// names and passes those on.)
func (g *Gateway) Serve(srv *http.Server, ln net.Listener) error {
	return ServeHandler(srv, ln, g)
}

// ServeHandler is Serve for a handler that hands each request to a
// Gateway's ServeHTTP, such as one that swaps gateways (the local run
// under -watch): the gateway finds the names in the request's context.
func ServeHandler(srv *http.Server, ln net.Listener, h http.Handler) error {
	srv.Handler = h
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if rc, ok := c.(*recordingConn); ok {
			return context.WithValue(ctx, recordingKey{}, rc)
		}
		return ctx
	}
	return srv.Serve(recordingListener{ln})
}

type recordingKey struct{}

type recordingListener struct{ net.Listener }

func (l recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c}, nil
}

// maxRecorded bounds what a connection keeps of what it read: a header
// block is at most net/http's 64 KB (local serves with that limit), and
// bodies pass through and are dropped.
const maxRecorded = 128 << 10

// recordingConn keeps what was read from it since its last request's
// header block.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.buf = append(c.buf, p[:n]...)
		if len(c.buf) > maxRecorded {
			c.buf = append(c.buf[:0], c.buf[len(c.buf)-maxRecorded/2:]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

// headerNames returns, by canonical name, each header's name as the client
// wrote it in r's header block (the first spelling, if it wrote several),
// and drops what was read up to the block's end. It returns nil when r did
// not come through Serve or its block is not found.
func headerNames(r *http.Request) map[string]string {
	c, ok := r.Context().Value(recordingKey{}).(*recordingConn)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	start := bytes.Index(c.buf, []byte(r.Method+" "+r.RequestURI+" "))
	if start < 0 {
		return nil
	}
	end := bytes.Index(c.buf[start:], []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	block := c.buf[start : start+end]
	names := map[string]string{}
	lines := bytes.Split(block, []byte("\r\n"))
	for _, line := range lines[1:] { // the request line first
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 {
			continue
		}
		canon := textproto.CanonicalMIMEHeaderKey(string(name))
		if _, seen := names[canon]; !seen {
			names[canon] = string(name)
		}
	}
	c.buf = append(c.buf[:0], c.buf[start+end+4:]...)
	return names
}
