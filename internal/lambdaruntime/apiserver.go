package lambdaruntime

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// apiServer serves one worker's Runtime API: HTTP/1.1 on loopback, one
// keep-alive connection per runtime client, requests read with net/http's
// own parser (http.ReadRequest: chunked bodies, trailers) and dispatched to
// the same ServeMux handlers.
//
// It replaces http.Server for this one purpose because a runtime makes two
// requests per invocation (/next, then /response or /error), and
// http.Server spends on each a background-read goroutine, a read that
// fails with EAGAIN, a deadline reset and a condition-variable handoff to
// notice a client hanging up while the handler runs. Here the client is our
// own child process: when it goes, wait() calls close, which cancels every
// request's context and closes the connections.
type apiServer struct {
	ln      net.Listener
	handler http.Handler
	ctx     context.Context // canceled by close: the worker is gone
	cancel  context.CancelFunc

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newAPIServer(ln net.Listener, h http.Handler) *apiServer {
	ctx, cancel := context.WithCancel(context.Background())
	return &apiServer{ln: ln, handler: h, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
}

func (s *apiServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// close stops the listener and every connection and cancels the requests
// in progress. It is safe to call more than once.
func (s *apiServer) close() {
	s.cancel()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
}

func (s *apiServer) serveConn(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	br := bufio.NewReader(c)
	bw := bufio.NewWriter(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			if err != io.EOF {
				writeResponse(bw, http.StatusBadRequest, http.Header{"Connection": {"close"}}, nil)
			}
			return
		}
		req.RemoteAddr = c.RemoteAddr().String()
		req = req.WithContext(s.ctx)
		if req.Header.Get("Expect") == "100-continue" {
			_, _ = bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if bw.Flush() != nil {
				return
			}
		}
		rw := &apiResponse{header: http.Header{}}
		s.handler.ServeHTTP(rw, req)
		// Consume what the handler left of the body, so the next request
		// starts where it should; a body too large to skip ends the
		// connection instead.
		n, _ := io.CopyN(io.Discard, req.Body, MaxResponseBytes+1)
		_ = req.Body.Close()
		keep := !req.Close && n <= MaxResponseBytes && s.ctx.Err() == nil
		if !keep {
			rw.header.Set("Connection", "close")
		}
		status := rw.status
		if status == 0 {
			status = http.StatusOK
		}
		if writeResponse(bw, status, rw.header, rw.body.Bytes()) != nil || !keep {
			return
		}
	}
}

// writeResponse writes a complete response with its Content-Length in one
// flush.
func writeResponse(bw *bufio.Writer, status int, h http.Header, body []byte) error {
	_, _ = bw.WriteString("HTTP/1.1 ")
	_, _ = bw.WriteString(strconv.Itoa(status))
	_ = bw.WriteByte(' ')
	_, _ = bw.WriteString(http.StatusText(status))
	_, _ = bw.WriteString("\r\n")
	h.Del("Content-Length")
	_ = h.Write(bw)
	_, _ = bw.WriteString("Content-Length: ")
	_, _ = bw.WriteString(strconv.Itoa(len(body)))
	_, _ = bw.WriteString("\r\n\r\n")
	_, _ = bw.Write(body)
	return bw.Flush()
}

// apiResponse buffers a handler's response; the Runtime API's answers are
// small (an event of at most 6 MB is the largest).
type apiResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *apiResponse) Header() http.Header { return r.header }

func (r *apiResponse) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *apiResponse) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
