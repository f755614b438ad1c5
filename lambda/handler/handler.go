// Package handler is the challenge API: it answers API Gateway REST proxy
// events (payload format 1.0) and makes no AWS calls, so it runs the same in
// Lambda, under aws-lambda-rie, behind `challengectl local` and in tests.
//
//	GET /health           → 200 {"status":"ok"}
//	GET /hello?name=X     → 200 {"message":"Hello, X!"} ("World" when the name is missing or blank)
//	name > 100 characters → 400 {"message":"<why>"}
//	unknown path          → 404 {"message":"Not Found"}
//	known path, other verb→ 405 {"message":"Method Not Allowed"} with an Allow header
//
// Every response carries Content-Type: application/json, and every request
// produces exactly one JSON log line (request id, method, path, status,
// duration): never headers, the query string or the API key.
package handler

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// MaxNameLength is the longest name /hello accepts, in Unicode characters
// (code points), not bytes: "José" is 4 characters.
const MaxNameLength = 100

// Allowed is the value of the Allow header on 405 responses: the only method
// the API serves on its known paths.
const Allowed = "GET"

// The fixed bodies are computed once: /health and the error answers are the
// hot path of a load test and need no encoding per request.
const (
	bodyHealth           = `{"status":"ok"}`
	bodyNotFound         = `{"message":"Not Found"}`
	bodyMethodNotAllowed = `{"message":"Method Not Allowed"}`
	bodyHelloWorld       = `{"message":"Hello, World!"}`
)

// maxLoggedPath bounds the path written to the log: a caller controls it and
// must not be able to flood the logs with one request.
const maxLoggedPath = 256

// Handler answers events and logs one line per request.
type Handler struct {
	log *slog.Logger
	now func() time.Time
}

// New returns a handler logging to logger (a JSON handler in production);
// nil logs nothing.
func New(logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{log: logger, now: time.Now}
}

// Handle is the Lambda entry point. It never returns an error: every event,
// however malformed, gets a JSON answer, so API Gateway never turns a bad
// request into a 502.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	start := h.now()
	resp := Respond(req)
	end := h.now()
	h.logRequest(ctx, req, resp.StatusCode, end, end.Sub(start))
	return resp, nil
}

func (h *Handler) logRequest(ctx context.Context, req events.APIGatewayProxyRequest, status int, end time.Time, d time.Duration) {
	lh := h.log.Handler()
	if !lh.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var awsRequestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		awsRequestID = lc.AwsRequestID
	}
	// This line is on every request, so it is built the cheap way: typed
	// attributes (no reflection or boxing), the clock reading already taken,
	// and the record handed straight to the handler with no caller PC
	// (Logger.LogAttrs walks the stack for one even when no source is
	// logged). The duration is an integer: slog's JSON handler formats
	// floats through encoding/json.
	r := slog.NewRecord(end, slog.LevelInfo, "request", 0)
	r.AddAttrs(
		slog.String("request_id", req.RequestContext.RequestID),
		slog.String("aws_request_id", awsRequestID),
		slog.String("method", req.HTTPMethod),
		slog.String("path", truncate(req.Path, maxLoggedPath)),
		slog.Int("status", status),
		slog.Int64("duration_ns", d.Nanoseconds()),
	)
	_ = lh.Handle(ctx, r)
}

// Respond computes the answer to one event. It is pure: no logging, no clock.
func Respond(req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	path := req.Path
	// "/health/" is the same resource as "/health" to a human typing a URL.
	if len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	switch path {
	case "/health":
		if req.HTTPMethod != "GET" {
			return methodNotAllowed()
		}
		return jsonResponse(200, bodyHealth)
	case "/hello":
		if req.HTTPMethod != "GET" {
			return methodNotAllowed()
		}
		return hello(queryParam(req, "name"))
	default:
		return jsonResponse(404, bodyNotFound)
	}
}

func hello(name string) events.APIGatewayProxyResponse {
	name = strings.TrimSpace(name)
	if name == "" {
		return jsonResponse(200, bodyHelloWorld)
	}
	if !utf8.ValidString(name) {
		return jsonResponse(400, messageBody("name must be valid UTF-8 text"))
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return jsonResponse(400, messageBody(fmt.Sprintf(
			"name is too long: %d characters, at most %d are allowed", n, MaxNameLength)))
	}
	var b strings.Builder
	// One allocation: the prefix, the name (escaping grows it rarely) and the suffix.
	b.Grow(len(`{"message":"Hello, !"}`) + len(name) + 8)
	b.WriteString(`{"message":"Hello, `)
	writeJSONStringContent(&b, name)
	b.WriteString(`!"}`)
	return jsonResponse(200, b.String())
}

// queryParam returns the value API Gateway puts in queryStringParameters
// (the last one when the key is repeated), falling back to the multi-value
// map for events built by tools that only fill that one.
func queryParam(req events.APIGatewayProxyRequest, key string) string {
	if v, ok := req.QueryStringParameters[key]; ok {
		return v
	}
	if vs := req.MultiValueQueryStringParameters[key]; len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return ""
}

func methodNotAllowed() events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: 405,
		Headers:    map[string]string{"Content-Type": "application/json", "Allow": Allowed},
		Body:       bodyMethodNotAllowed,
	}
}

func jsonResponse(status int, body string) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		// A fresh map per response: the caller owns what it gets back and may
		// add headers without racing other invocations.
		Headers: map[string]string{"Content-Type": "application/json"},
		Body:    body,
	}
}

// messageBody returns {"message":"<msg>"} with msg JSON-encoded.
func messageBody(msg string) string {
	var b strings.Builder
	b.WriteString(`{"message":"`)
	writeJSONStringContent(&b, msg)
	b.WriteString(`"}`)
	return b.String()
}

const hexDigits = "0123456789abcdef"

// writeJSONStringContent writes s as the inside of a JSON string (RFC 8259):
// quotes, backslashes and control characters escaped, U+2028 and U+2029
// escaped as encoding/json does so the body is also safe inside JavaScript,
// invalid UTF-8 replaced by U+FFFD. It is a reflection-free equivalent of
// json.Marshal for one string, written for the per-request hot path.
func writeJSONStringContent(b *strings.Builder, s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
