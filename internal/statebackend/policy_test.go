package statebackend

import (
	"encoding/json"
	"strings"
	"testing"
)

const testARN = "arn:aws:s3:::tf-state"

func statements(t *testing.T, doc string) []map[string]any {
	t.Helper()
	var p struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy %s: %v", doc, err)
	}
	return p.Statement
}

func TestMergeTLSDenyIntoNothing(t *testing.T) {
	m, err := mergeTLSDeny("", testARN)
	if err != nil {
		t.Fatal(err)
	}
	if m.Present || m.Foreign != 0 {
		t.Fatalf("merge = %+v", m)
	}
	st := statements(t, m.Document)
	if len(st) != 1 || st[0]["Sid"] != tlsDenySid || st[0]["Effect"] != "Deny" {
		t.Fatalf("statements = %v", st)
	}
	if !strings.Contains(m.Document, `"Version":"2012-10-17"`) {
		t.Fatalf("no Version in %s", m.Document)
	}
	// The result is recognised by the same check: a second merge is a no-op.
	again, err := mergeTLSDeny(m.Document, testARN)
	if err != nil || !again.Present || again.PresentSid != tlsDenySid {
		t.Fatalf("second merge = %+v, %v", again, err)
	}
}

func TestMergeTLSDenyKeepsForeignStatements(t *testing.T) {
	// Statement as a single object, Action as a string: both legal IAM.
	foreign := `{"Version":"2012-10-17","Id":"corp","Statement":{"Sid":"AllowCI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/ci"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::tf-state/*"}}`
	m, err := mergeTLSDeny(foreign, testARN)
	if err != nil {
		t.Fatal(err)
	}
	if m.Present || m.Foreign != 1 {
		t.Fatalf("merge = %+v", m)
	}
	st := statements(t, m.Document)
	if len(st) != 2 || st[0]["Sid"] != "AllowCI" || st[1]["Sid"] != tlsDenySid {
		t.Fatalf("statements = %v", st)
	}
	if !strings.Contains(m.Document, `"Id":"corp"`) {
		t.Fatalf("policy Id lost: %s", m.Document)
	}
	if p := st[0]["Principal"].(map[string]any)["AWS"]; p != "arn:aws:iam::123456789012:role/ci" {
		t.Fatalf("foreign principal changed: %v", p)
	}
}

func TestMergeTLSDenyRecognisesEquivalents(t *testing.T) {
	equivalent := []string{
		// Another Sid, arrays everywhere, a JSON boolean in the condition.
		`{"Statement":[{"Sid":"SecureTransportOnly","Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":["arn:aws:s3:::tf-state","arn:aws:s3:::tf-state/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}]}`,
		// No Sid, wildcard resource and action, string condition.
		`{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:securetransport":"false"}}}}`,
		// Wildcard covering both ARNs, BoolIfExists, condition value in an array.
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::tf-state/*"},{"Sid":"x","Effect":"Deny","Principal":"*","Action":"S3:*","Resource":"arn:aws:s3:::tf-state*","Condition":{"BoolIfExists":{"aws:SecureTransport":["false"]}}}]}`,
	}
	for i, doc := range equivalent {
		m, err := mergeTLSDeny(doc, testARN)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !m.Present || m.Document != "" {
			t.Errorf("%d: equivalent deny not recognised: %+v", i, m)
		}
	}
}

func TestMergeTLSDenyRejectsLookAlikes(t *testing.T) {
	notEquivalent := []string{
		// Only the objects, not the bucket.
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::tf-state/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
		// Narrowed by a second condition.
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::tf-state","arn:aws:s3:::tf-state/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:PrincipalAccount":"1"}}}]}`,
		// Only some actions.
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":["arn:aws:s3:::tf-state","arn:aws:s3:::tf-state/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
		// Allow, not deny; and "true".
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
		// Another bucket.
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::other","arn:aws:s3:::other/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
	}
	for i, doc := range notEquivalent {
		m, err := mergeTLSDeny(doc, testARN)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if m.Present || m.Foreign != 1 || len(statements(t, m.Document)) != 2 {
			t.Errorf("%d: look-alike treated as equivalent or lost: %+v", i, m)
		}
	}
}

func TestMergeTLSDenySidCollision(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::tf-state/*"}]}`
	m, err := mergeTLSDeny(doc, testARN)
	if err != nil {
		t.Fatal(err)
	}
	st := statements(t, m.Document)
	if len(st) != 2 || st[0]["Effect"] != "Allow" || st[1]["Sid"] != "Challengectl"+tlsDenySid {
		t.Fatalf("statements = %v", st)
	}
}

func TestMergeTLSDenyRefusesUnreadablePolicy(t *testing.T) {
	for _, doc := range []string{`{not json`, `{"Statement":"nope"}`, `{"Statement":[{"Effect":"Deny","Action":{"x":1}}]}`} {
		if _, err := mergeTLSDeny(doc, testARN); err == nil {
			t.Errorf("mergeTLSDeny(%s) succeeded; it must refuse rather than overwrite", doc)
		}
	}
}
