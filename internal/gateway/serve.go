package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/challengectl/challengectl/internal/lambdaruntime"
)

// Gateway error bodies and x-amzn-ErrorType values, as AWS sends them.
const (
	msgMissingToken = "Missing Authentication Token"
	msgForbidden    = "Forbidden"
	msgThrottled    = "Too Many Requests"
	msgQuota        = "Limit Exceeded"
	msgInternal     = "Internal server error"
	msgTimeout      = "Endpoint request timed out"
	msgTooLarge     = "Request Too Long"

	typeMissingToken = "MissingAuthenticationTokenException"
	typeForbidden    = "ForbiddenException"
	typeThrottled    = "TooManyRequestsException"
	typeQuota        = "LimitExceededException"
	typeInternal     = "InternalServerErrorException"
)

// setHeader sets a header with AWS's spelling: Go's canonical form would
// turn x-amzn-RequestId into X-Amzn-Requestid on the wire.
func setHeader(h http.Header, name, value string) { h[name] = []string{value} }

// gatewayError writes an API Gateway-generated response.
func gatewayError(w http.ResponseWriter, status int, errType, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if errType != "" {
		setHeader(h, "x-amzn-ErrorType", errType)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+msg+`"}`)
}

// ServeHTTP answers one request as the API Gateway stage would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &g.stats
	c.requests.Add(1)
	reqID := lambdaruntime.NewRequestID()
	h := w.Header()
	setHeader(h, "x-amzn-RequestId", reqID)
	setHeader(h, "x-amz-apigw-id", randomID(16))

	// Route: /<stage> and /<stage>/... only. The resources are ANY / and
	// ANY /{proxy+}.
	rest, ok := strings.CutPrefix(r.URL.Path, g.stagePath)
	if !ok || (rest != "" && rest[0] != '/') {
		c.notFound.Add(1)
		gatewayError(w, http.StatusForbidden, typeMissingToken, msgMissingToken)
		return
	}
	if r.ContentLength > MaxBodyBytes {
		c.tooLarge.Add(1)
		gatewayError(w, http.StatusRequestEntityTooLarge, "", msgTooLarge)
		return
	}

	// API key: the header name is case-insensitive (HTTP field names are).
	apiKey := r.Header.Get("X-Api-Key")
	key := g.lookupKey(apiKey)
	if key == nil {
		c.forbidden.Add(1)
		gatewayError(w, http.StatusForbidden, typeForbidden, msgForbidden)
		return
	}
	now := g.now()
	if !key.takeQuota(now, g.o.Limits.Quota, g.o.Limits.QuotaPeriod) {
		c.quota.Add(1)
		gatewayError(w, http.StatusTooManyRequests, typeQuota, msgQuota)
		return
	}
	if !g.allow(key) {
		key.giveBackQuota()
		c.throttled.Add(1)
		gatewayError(w, http.StatusTooManyRequests, typeThrottled, msgThrottled)
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.tooLarge.Add(1)
			gatewayError(w, http.StatusRequestEntityTooLarge, "", msgTooLarge)
		}
		// Otherwise the client went away mid-body: nobody to answer.
		return
	}

	payload, err := json.Marshal(g.event(r, rest, body, apiKey, key.id, reqID, now))
	if err != nil {
		c.badGateway.Add(1)
		gatewayError(w, http.StatusInternalServerError, typeInternal, msgInternal)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	defer cancel()
	out, err := g.o.Invoker.Invoke(ctx, payload)
	if err != nil {
		switch {
		case r.Context().Err() != nil:
			// The client hung up; as on AWS the function still ran.
			return
		case errors.Is(err, lambdaruntime.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
			c.timeouts.Add(1)
			g.log.Warn("lambda integration timed out", "request_id", reqID, "error", err)
			gatewayError(w, http.StatusGatewayTimeout, "", msgTimeout)
		default:
			c.badGateway.Add(1)
			g.log.Warn("lambda integration failed", "request_id", reqID, "error", err)
			gatewayError(w, http.StatusBadGateway, typeInternal, msgInternal)
		}
		return
	}
	resp, err := parseProxyResponse(out)
	if err != nil {
		c.badGateway.Add(1)
		g.log.Warn("malformed Lambda proxy response", "request_id", reqID, "error", err)
		gatewayError(w, http.StatusBadGateway, typeInternal, msgInternal)
		return
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		respBody, err = base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			// API_CONFIGURATION_ERROR: base64 decoding failed.
			c.badGateway.Add(1)
			g.log.Warn("Lambda response body is not valid base64", "request_id", reqID)
			gatewayError(w, http.StatusInternalServerError, typeInternal, msgInternal)
			return
		}
	}
	c.ok.Add(1)
	writeHeaders(h, resp)
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = w.Write(respBody)
	}
}

// proxyResponse is the Lambda proxy integration's output. It is decoded
// strictly: AWS answers 502 to a response with unknown fields, a missing or
// non-numeric statusCode, or a non-string body.
type proxyResponse struct {
	StatusCode        int
	Headers           map[string]string
	MultiValueHeaders map[string][]string
	Body              string
	IsBase64Encoded   bool
}

type errMalformed string

func (e errMalformed) Error() string { return "malformed Lambda proxy response: " + string(e) }

func parseProxyResponse(payload []byte) (*proxyResponse, error) {
	var raw struct {
		StatusCode        *int                `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Body              *string             `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, errMalformed(err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMalformed("trailing data after the JSON object")
	}
	if raw.StatusCode == nil {
		return nil, errMalformed("no statusCode")
	}
	if *raw.StatusCode < 100 || *raw.StatusCode > 599 {
		return nil, errMalformed("statusCode " + strconv.Itoa(*raw.StatusCode) + " is not an HTTP status")
	}
	resp := &proxyResponse{
		StatusCode:        *raw.StatusCode,
		Headers:           raw.Headers,
		MultiValueHeaders: raw.MultiValueHeaders,
		IsBase64Encoded:   raw.IsBase64Encoded,
	}
	if raw.Body != nil {
		resp.Body = *raw.Body
	}
	return resp, nil
}

// remapped are the response headers API Gateway does not pass through as
// such: it renames them x-amzn-Remapped-<name>.
var remapped = map[string]bool{
	"Connection": true, "Content-Length": true, "Date": true, "Server": true,
	"Transfer-Encoding": true, "Keep-Alive": true, "Upgrade": true,
	"X-Amzn-Requestid": true, "X-Amz-Apigw-Id": true,
}

// writeHeaders merges multiValueHeaders and headers as AWS does: a name in
// both keeps the multiValueHeaders values only. A response without
// Content-Type gets application/json, REST's default.
func writeHeaders(h http.Header, resp *proxyResponse) {
	add := func(name, value string) {
		cn := http.CanonicalHeaderKey(name)
		if remapped[cn] {
			h.Add("X-Amzn-Remapped-"+cn, value)
			return
		}
		h.Add(cn, value)
	}
	seen := make(map[string]bool, len(resp.MultiValueHeaders))
	for name, values := range resp.MultiValueHeaders {
		seen[http.CanonicalHeaderKey(name)] = true
		for _, v := range values {
			add(name, v)
		}
	}
	for name, v := range resp.Headers {
		if !seen[http.CanonicalHeaderKey(name)] {
			add(name, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
}

// event builds the v1 proxy event AWS sends for this request.
func (g *Gateway) event(r *http.Request, rest string, body []byte, apiKey, apiKeyID, reqID string, now time.Time) *events.APIGatewayProxyRequest {
	resource, resourceID, path := "/", g.rootID, "/"
	var pathParams map[string]string
	if rest != "" && rest != "/" {
		resource, resourceID, path = "/{proxy+}", g.proxyID, rest
		pathParams = map[string]string{"proxy": rest[1:]}
	}

	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	headers := make(map[string]string, len(r.Header)+5)
	multi := make(map[string][]string, len(r.Header)+5)
	for k, vs := range r.Header {
		multi[k] = vs
		if len(vs) > 0 {
			headers[k] = vs[len(vs)-1]
		}
	}
	// Headers API Gateway adds in front of the integration.
	set := func(k, v string) { headers[k] = v; multi[k] = []string{v} }
	set("Host", r.Host)
	xff := sourceIP
	if prev := r.Header.Get("X-Forwarded-For"); prev != "" {
		xff = prev + ", " + sourceIP
	}
	set("X-Forwarded-For", xff)
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	set("X-Forwarded-Proto", proto)
	set("X-Forwarded-Port", port)
	set("X-Amzn-Trace-Id", "Root=1-"+strconv.FormatInt(now.Unix(), 16)+"-"+randomHex(12))

	var query map[string]string
	var multiQuery map[string][]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		multiQuery = q
		for k, vs := range q {
			query[k] = vs[len(vs)-1]
		}
	}

	ev := &events.APIGatewayProxyRequest{
		Resource:                        resource,
		Path:                            path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multi,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  pathParams,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         g.accountID,
			ResourceID:        resourceID,
			Stage:             g.o.Stage,
			DomainName:        r.Host,
			DomainPrefix:      strings.SplitN(r.Host, ".", 2)[0],
			RequestID:         reqID,
			ExtendedRequestID: randomID(16),
			Protocol:          r.Proto,
			Identity: events.APIGatewayRequestIdentity{
				APIKey:    apiKey,
				APIKeyID:  apiKeyID,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
			ResourcePath:     resource,
			Path:             g.stagePath + path,
			HTTPMethod:       r.Method,
			RequestTime:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: now.UnixMilli(),
			APIID:            g.apiID,
		},
	}
	if len(body) > 0 {
		if g.isBinary(r.Header.Get("Content-Type")) || !utf8.Valid(body) {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		} else {
			ev.Body = string(body)
		}
	}
	return ev
}

// isBinary matches a Content-Type against the binaryMediaTypes (exact type,
// type/* or */*).
func (g *Gateway) isBinary(contentType string) bool {
	if len(g.binaryMTs) == 0 || contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(contentType)
	}
	major, _, _ := strings.Cut(mt, "/")
	for _, b := range g.binaryMTs {
		if b == "*/*" || b == mt || b == major+"/*" {
			return true
		}
	}
	return false
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomID returns n characters like API Gateway's ids (a-z, 0-9).
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

func randomHex(n int) string {
	const hexdigits = "0123456789abcdef"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	out := make([]byte, 2*n)
	for i, c := range b {
		out[2*i], out[2*i+1] = hexdigits[c>>4], hexdigits[c&15]
	}
	return string(out)
}
