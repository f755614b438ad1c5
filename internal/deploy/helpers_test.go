package deploy

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/challengectl/challengectl/internal/testtools"
)

// backendEnv is one kumo with a versioned state bucket and a lock table,
// as challengectl bootstrap would leave them.
type backendEnv struct {
	url    string
	cfg    aws.Config
	bucket string
	table  string
	tofu   string
}

func newBackend(t *testing.T) *backendEnv { return newBackendB(t) }

func newBackendB(t testing.TB) *backendEnv {
	t.Helper()
	tofu := testtools.Path(t, "tofu")
	b := testtools.NewStateBackend(t)
	return &backendEnv{url: b.URL, cfg: b.Config, bucket: b.Bucket, table: b.Table, tofu: tofu}
}

// options returns deploy options for a copy of the fixture, with extra
// files (name → content) added to it.
func (e *backendEnv) options(t *testing.T, extra map[string]string) Options {
	o := e.optionsB(t, extra)
	o.Logger = testLogger(t)
	return o
}

func (e *backendEnv) optionsB(t testing.TB, extra ...map[string]string) Options {
	t.Helper()
	dir := copyFixture(t, filepath.Join("testdata", "stack"))
	for _, m := range extra {
		for name, content := range m {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return Options{
		TerraformDir:      dir,
		TerraformBin:      e.tofu,
		Region:            "us-east-1",
		EndpointURL:       e.url,
		App:               "challenge-api",
		Stage:             "test",
		Bucket:            e.bucket,
		Table:             e.table,
		PackagePath:       writeZip(t, "v1"),
		AutoApprove:       true,
		GuardedAddresses:  []string{"terraform_data.function", "terraform_data.api"},
		FunctionAddress:   "terraform_data.function",
		PermissionAddress: "terraform_data.permission",
		AWSConfig:         &e.cfg,
		Getenv:            func(string) string { return "" },
	}
}

func copyFixture(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeZip writes a small zip whose content (and so hash) depends on body.
func writeZip(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "package.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Store, Modified: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
