package statebackend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// tlsDenySid is the Sid of the statement challengectl adds. An equivalent
// statement under any other Sid is recognised and left alone.
const tlsDenySid = "DenyInsecureTransport"

// stringList is an IAM policy value that may be written as one string, an
// array of strings, or (in conditions) a bare boolean or number.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make([]string, 0, len(raw))
		for _, r := range raw {
			s, err := scalarString(r)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	s, err := scalarString(b)
	if err != nil {
		return err
	}
	*l = stringList{s}
	return nil
}

// scalarString reads a JSON string, boolean or number as its text.
func scalarString(b []byte) (string, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("expected a string, boolean or number, got %s", b)
}

// statement holds the parts of a policy statement needed to recognise a
// TLS-only deny. Foreign statements are never re-encoded from it: the merge
// keeps their original JSON.
type statement struct {
	Sid          string                           `json:"Sid"`
	Effect       string                           `json:"Effect"`
	Principal    json.RawMessage                  `json:"Principal"`
	NotPrincipal json.RawMessage                  `json:"NotPrincipal"`
	Action       stringList                       `json:"Action"`
	NotAction    stringList                       `json:"NotAction"`
	Resource     stringList                       `json:"Resource"`
	NotResource  stringList                       `json:"NotResource"`
	Condition    map[string]map[string]stringList `json:"Condition"`
}

// policyMerge is the result of merging the TLS deny into a bucket policy.
type policyMerge struct {
	Present    bool   // an equivalent deny already exists
	PresentSid string // its Sid, when Present
	Foreign    int    // statements that are not challengectl's TLS deny
	Document   string // the policy to put when !Present
}

// mergeTLSDeny parses the existing policy (empty: none) and, unless an
// equivalent TLS-only deny is already there, returns a document with every
// existing statement kept verbatim and the deny appended.
func mergeTLSDeny(existing, bucketARN string) (policyMerge, error) {
	top := map[string]json.RawMessage{}
	var raws []json.RawMessage
	if strings.TrimSpace(existing) != "" {
		if err := json.Unmarshal([]byte(existing), &top); err != nil {
			return policyMerge{}, fmt.Errorf("parse the existing bucket policy: %w", err)
		}
		if st, ok := top["Statement"]; ok {
			st = bytes.TrimSpace(st)
			switch {
			case len(st) > 0 && st[0] == '{':
				raws = []json.RawMessage{st}
			case len(st) > 0 && st[0] == '[':
				if err := json.Unmarshal(st, &raws); err != nil {
					return policyMerge{}, fmt.Errorf("parse the existing bucket policy's Statement: %w", err)
				}
			case string(st) == "null":
			default:
				return policyMerge{}, fmt.Errorf("parse the existing bucket policy: Statement is neither an object nor an array")
			}
		}
	}
	var m policyMerge
	sids := map[string]bool{}
	for i, raw := range raws {
		var s statement
		if err := json.Unmarshal(raw, &s); err != nil {
			return policyMerge{}, fmt.Errorf("parse statement %d of the existing bucket policy: %w", i+1, err)
		}
		sids[s.Sid] = true
		if !m.Present && isTLSDeny(s, bucketARN) {
			m.Present, m.PresentSid = true, s.Sid
			continue
		}
		m.Foreign++
	}
	if m.Present {
		return m, nil
	}
	sid := tlsDenySid
	for n := 1; sids[sid]; n++ {
		// A foreign statement already uses our Sid for something else: keep it
		// and pick a free Sid, since Sids must be unique in a policy.
		sid = "Challengectl" + tlsDenySid
		if n > 1 {
			sid += strconv.Itoa(n)
		}
	}
	ours, err := json.Marshal(tlsDenyStatement(sid, bucketARN))
	if err != nil {
		return policyMerge{}, err
	}
	raws = append(raws, ours)
	stmts, err := json.Marshal(raws)
	if err != nil {
		return policyMerge{}, err
	}
	top["Statement"] = stmts
	if _, ok := top["Version"]; !ok {
		top["Version"] = json.RawMessage(`"2012-10-17"`)
	}
	doc, err := json.Marshal(top)
	if err != nil {
		return policyMerge{}, err
	}
	m.Document = string(doc)
	return m, nil
}

// tlsDenyStatement is the statement challengectl adds, in the key order AWS
// documents.
func tlsDenyStatement(sid, bucketARN string) any {
	return struct {
		Sid       string                       `json:"Sid"`
		Effect    string                       `json:"Effect"`
		Principal string                       `json:"Principal"`
		Action    string                       `json:"Action"`
		Resource  []string                     `json:"Resource"`
		Condition map[string]map[string]string `json:"Condition"`
	}{
		Sid: sid, Effect: "Deny", Principal: "*", Action: "s3:*",
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]map[string]string{"Bool": {"aws:SecureTransport": "false"}},
	}
}

// isTLSDeny reports whether s denies every S3 action on the bucket and its
// objects to everyone when the request is not made over TLS, with no other
// condition narrowing it.
func isTLSDeny(s statement, bucketARN string) bool {
	if !strings.EqualFold(s.Effect, "Deny") || len(s.NotPrincipal) > 0 || len(s.NotAction) > 0 || len(s.NotResource) > 0 {
		return false
	}
	if !isEveryone(s.Principal) {
		return false
	}
	allActions := false
	for _, a := range s.Action {
		if a == "*" || strings.EqualFold(a, "s3:*") {
			allActions = true
		}
	}
	if !allActions {
		return false
	}
	for _, want := range []string{bucketARN, bucketARN + "/*"} {
		covered := false
		for _, r := range s.Resource {
			if globMatch(r, want) {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	if len(s.Condition) != 1 {
		return false
	}
	for op, kv := range s.Condition {
		if op != "Bool" && op != "BoolIfExists" {
			return false
		}
		if len(kv) != 1 {
			return false
		}
		for k, vals := range kv {
			if !strings.EqualFold(k, "aws:SecureTransport") || len(vals) != 1 || !strings.EqualFold(vals[0], "false") {
				return false
			}
		}
	}
	return true
}

// isEveryone reports whether a Principal is "*" or {"AWS": "*"}.
func isEveryone(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var m map[string]stringList
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for k, v := range m {
		if k == "AWS" && len(v) == 1 && v[0] == "*" {
			return true
		}
	}
	return false
}

// globMatch matches an IAM resource pattern (* and ?) against an ARN.
func globMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}
