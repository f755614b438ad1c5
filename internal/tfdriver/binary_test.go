package tfdriver

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/testtools"
)

// fakeTerraform writes a script that answers `version -json` like Terraform
// of the given version (or prints out as is when raw).
func fakeTerraform(t *testing.T, dir, name, out string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	script := "#!/bin/sh\ncat <<'JSON'\n" + out + "\nJSON\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func versionJSON(v string) string {
	return `{"terraform_version":"` + v + `","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}`
}

func noPath(string) (string, error) { return "", exec.ErrNotFound }

func TestFindExplicit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	_, err := Find(ctx, FindOptions{Explicit: filepath.Join(dir, "nope")})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "--terraform-bin") || !strings.Contains(err.Error(), "Install Terraform") {
		t.Errorf("missing --terraform-bin: %v", err)
	}

	old := fakeTerraform(t, dir, "terraform-old", versionJSON("1.5.7"))
	_, err = Find(ctx, FindOptions{Explicit: old})
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Version != "1.5.7" || !strings.Contains(err.Error(), "≥ 1.6.0") {
		t.Errorf("too old: %v", err)
	}

	junk := fakeTerraform(t, dir, "not-terraform", "hello")
	_, err = Find(ctx, FindOptions{Explicit: junk})
	if !errors.As(err, &ve) || ve.Version != "" || !strings.Contains(err.Error(), "cannot read the version") {
		t.Errorf("not terraform: %v", err)
	}

	ok := fakeTerraform(t, dir, "terraform-new", versionJSON("1.6.0"))
	b, err := Find(ctx, FindOptions{Explicit: ok})
	if err != nil || b.Version.String() != "1.6.0" || b.Source != "flag" {
		t.Errorf("1.6.0: %+v, %v", b, err)
	}
}

func TestFindOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tf := fakeTerraform(t, dir, "terraform", versionJSON("1.9.8"))
	tofu := fakeTerraform(t, dir, "tofu", versionJSON("1.10.10"))
	look := func(have ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, h := range have {
				if filepath.Base(h) == name {
					return h, nil
				}
			}
			return "", exec.ErrNotFound
		}
	}
	b, err := Find(ctx, FindOptions{LookPath: look(tofu, tf), NoInstall: true})
	if err != nil || b.Path != tf || b.Source != "PATH terraform" {
		t.Errorf("terraform first: %+v, %v", b, err)
	}
	b, err = Find(ctx, FindOptions{LookPath: look(tofu), NoInstall: true})
	if err != nil || b.Path != tofu || b.Source != "PATH tofu" {
		t.Errorf("then tofu: %+v, %v", b, err)
	}
	// Then the pinned release in the cache.
	cache := t.TempDir()
	fakeTerraform(t, cache, "terraform", versionJSON(PinnedVersion))
	b, err = Find(ctx, FindOptions{LookPath: noPath, CacheDir: cache, NoInstall: true})
	if err != nil || b.Source != "cache" {
		t.Errorf("cache: %+v, %v", b, err)
	}
	// A too-old terraform on PATH is an error, not silently skipped.
	old := fakeTerraform(t, t.TempDir(), "terraform", versionJSON("1.3.0"))
	_, err = Find(ctx, FindOptions{LookPath: look(old, tofu), NoInstall: true})
	var ve *VersionError
	if !errors.As(err, &ve) {
		t.Errorf("old terraform on PATH: %v", err)
	}
}

// TestFindOffline: nothing on PATH, nothing cached, and the release server
// unreachable (a closed loopback port): a clear error saying how to install.
func TestFindOffline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = Find(context.Background(), FindOptions{LookPath: noPath, CacheDir: t.TempDir(), ReleasesURL: "http://" + addr, InstallTimeout: 10 * time.Second})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("offline: want *NotFoundError, got %T: %v", err, err)
	}
	msg := err.Error()
	for _, s := range []string{"terraform on PATH", "tofu on PATH", "download of Terraform " + PinnedVersion, "Install Terraform", "--terraform-bin"} {
		if !strings.Contains(msg, s) {
			t.Errorf("offline message lacks %q: %s", s, msg)
		}
	}
	t.Logf("offline failure after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

func TestFindRealTofu(t *testing.T) {
	tofu := testtools.Path(t, "tofu")
	b, err := Find(context.Background(), FindOptions{Explicit: tofu})
	if err != nil {
		t.Fatal(err)
	}
	if b.Version.String() != "1.10.10" {
		t.Errorf("version = %s", b.Version)
	}
}
