package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// sender performs one HTTP exchange for a worker. It returns the status and
// whether a 429 said the quota (not the rate) was exceeded.
type sender interface {
	send() (status int, quota bool, err error)
	close()
}

// httpSender goes through net/http: used with a caller's HTTPClient or an
// HTTP proxy from the environment, where correctness beats speed.
type httpSender struct {
	rt  http.RoundTripper
	req *http.Request
}

func (s *httpSender) send() (int, bool, error) {
	resp, err := s.rt.RoundTrip(s.req)
	if err != nil {
		return 0, false, err
	}
	quota := false
	if resp.StatusCode == http.StatusTooManyRequests {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		quota = isQuotaBody(b)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, quota, nil
}

func (s *httpSender) close() {}

// isQuotaBody tells API Gateway's "quota spent" 429 from its throttling 429
// by decoding the body, never by matching text.
func isQuotaBody(b []byte) bool {
	var body struct {
		Message string `json:"message"`
	}
	return json.Unmarshal(b, &body) == nil && body.Message == "Limit Exceeded"
}

// rawSender is the fast path: an HTTP/1.1 keep-alive connection owned by one
// worker, which writes the pre-serialised request and parses the answer on
// its own goroutine. net/http's client hands every request to the
// connection's read and write goroutines and allocates ~30 objects per
// request; on a 2-core machine shared with the server that overhead is the
// difference between below hey and above it (see the package comment and
// bench/). It handles Content-Length, chunked and close-delimited bodies,
// Connection: close, HTTP/1.0, 1xx answers and TLS (HTTP/1.1 via ALPN, like
// N separate clients), and redials when a kept-alive connection was closed
// by the server.
type rawSender struct {
	ctx     context.Context
	addr    string
	tlsConf *tls.Config
	request []byte
	timeout time.Duration

	mu   sync.Mutex // guards conn against the cancel callback
	conn net.Conn
	br   *bufio.Reader
	stop func() bool // unregisters the cancel callback

	body [4096]byte // a 429's body, for the quota check
}

var errMalformed = errors.New("malformed HTTP response")

func newRawSender(ctx context.Context, target *url.URL, apiKey string, timeout time.Duration) *rawSender {
	host := target.Host
	addr := host
	if target.Port() == "" {
		port := "80"
		if target.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(target.Hostname(), port)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: challengectl-loadtest\r\nAccept: */*\r\n", target.RequestURI(), host)
	if apiKey != "" {
		fmt.Fprintf(&b, "x-api-key: %s\r\n", apiKey)
	}
	b.WriteString("\r\n")
	s := &rawSender{ctx: ctx, addr: addr, request: b.Bytes(), timeout: timeout}
	if target.Scheme == "https" {
		s.tlsConf = &tls.Config{ServerName: target.Hostname(), NextProtos: []string{"http/1.1"}}
	}
	// Ctrl-C must not wait for a stuck server: expire the connection's
	// deadline so the blocked read returns at once.
	s.stop = context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.conn != nil {
			_ = s.conn.SetDeadline(time.Unix(1, 0))
		}
	})
	return s
}

func (s *rawSender) close() {
	s.stop()
	s.closeConn()
}

func (s *rawSender) closeConn() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

func (s *rawSender) dial() error {
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	c, err := d.DialContext(s.ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	if s.tlsConf != nil {
		tc := tls.Client(c, s.tlsConf)
		hctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = c.Close()
			return err
		}
		c = tc
	}
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	if s.br == nil {
		s.br = bufio.NewReaderSize(c, 8192)
	} else {
		s.br.Reset(c)
	}
	return nil
}

func (s *rawSender) send() (int, bool, error) {
	for {
		fresh := false
		if s.conn == nil {
			if err := s.dial(); err != nil {
				return 0, false, err
			}
			fresh = true
		}
		status, quota, started, err := s.exchange()
		if err == nil {
			return status, quota, nil
		}
		s.closeConn()
		// A kept-alive connection the server closed while idle fails before
		// any byte of the answer: send again on a new one, as net/http does.
		// A fresh connection failing is a real error.
		if fresh || started || s.ctx.Err() != nil {
			if ctxErr := s.ctx.Err(); ctxErr != nil {
				return 0, false, ctxErr
			}
			return 0, false, err
		}
	}
}

// exchange writes the request and reads one answer. started reports whether
// any byte of the answer arrived.
func (s *rawSender) exchange() (status int, quota, started bool, err error) {
	_ = s.conn.SetDeadline(time.Now().Add(s.timeout))
	if _, err := s.conn.Write(s.request); err != nil {
		return 0, false, false, err
	}
	keepAlive := true
	for {
		line, err := s.br.ReadSlice('\n')
		if err != nil {
			return 0, false, len(line) > 0, err
		}
		started = true
		// "HTTP/1.1 200 OK"
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return 0, false, true, errMalformed
		}
		status, err = strconv.Atoi(string(line[9:12]))
		if err != nil {
			return 0, false, true, errMalformed
		}
		keepAlive = line[7] == '1'
		if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
			// An interim answer: skip its headers, read the real one.
			if _, _, _, err := s.headers(keepAlive); err != nil {
				return 0, false, true, err
			}
			continue
		}
		break
	}
	length, chunked, keepAlive, err := s.headers(keepAlive)
	if err != nil {
		return 0, false, true, err
	}
	var body []byte
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified:
	case chunked:
		body, err = s.readChunked(status == http.StatusTooManyRequests)
	case length >= 0:
		body, err = s.readN(length, status == http.StatusTooManyRequests)
	default:
		// No length: the body ends when the server closes.
		keepAlive = false
		body, err = s.readN(-1, status == http.StatusTooManyRequests)
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if err != nil {
		return 0, false, true, err
	}
	if !keepAlive {
		s.closeConn()
	}
	if status == http.StatusTooManyRequests {
		quota = isQuotaBody(body)
	}
	return status, quota, true, nil
}

// headers reads header lines up to the blank line, keeping only those that
// frame the body and the connection.
func (s *rawSender) headers(keepAlive bool) (length int64, chunked, keep bool, err error) {
	length = -1
	keep = keepAlive
	for {
		line, err := s.br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				err = fmt.Errorf("%w: header line over %d bytes", errMalformed, s.br.Size())
			}
			return 0, false, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return length, chunked, keep, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, false, false, errMalformed
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return 0, false, false, errMalformed
			}
			length = n
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case asciiEqualFold(name, "connection"):
			v := bytes.ToLower(value)
			if bytes.Contains(v, []byte("close")) {
				keep = false
			} else if bytes.Contains(v, []byte("keep-alive")) {
				keep = true
			}
		}
	}
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// readN discards n body bytes (n < 0: until EOF), keeping the first 4 KiB
// when keep is set.
func (s *rawSender) readN(n int64, keep bool) ([]byte, error) {
	var kept []byte
	if keep {
		want := int64(len(s.body))
		if n >= 0 {
			want = min(want, n)
		}
		m, err := io.ReadFull(s.br, s.body[:want])
		kept = s.body[:m]
		if err != nil && !(n < 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))) {
			return kept, err
		}
		if n >= 0 {
			n -= int64(m)
		}
	}
	if n < 0 {
		_, err := io.Copy(io.Discard, s.br)
		return kept, err
	}
	for n > 0 {
		step := int(min(n, 1<<30))
		d, err := s.br.Discard(step)
		n -= int64(d)
		if err != nil {
			return kept, err
		}
	}
	return kept, nil
}

// readChunked discards a chunked body and its trailers.
func (s *rawSender) readChunked(keep bool) ([]byte, error) {
	var kept []byte
	for {
		line, err := s.br.ReadSlice('\n')
		if err != nil {
			return kept, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return kept, errMalformed
		}
		if size == 0 {
			// Trailers, up to the blank line.
			for {
				t, err := s.br.ReadSlice('\n')
				if err != nil {
					return kept, err
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					return kept, nil
				}
			}
		}
		if keep && len(kept) < len(s.body) {
			m := int(min(size, int64(len(s.body)-len(kept))))
			start := len(kept)
			if _, err := io.ReadFull(s.br, s.body[start:start+m]); err != nil {
				return kept, err
			}
			kept = s.body[:start+m]
			size -= int64(m)
		}
		if _, err := s.br.Discard(int(size)); err != nil {
			return kept, err
		}
		if _, err := s.br.Discard(2); err != nil { // the chunk's CRLF
			return kept, err
		}
	}
}
