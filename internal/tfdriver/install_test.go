package tfdriver

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// releasesServer is a fake releases.hashicorp.com for PinnedVersion: the
// index.json, a zip holding a `terraform` that answers `version -json`, its
// SHA256SUMS and a detached signature of them by a key made for the test.
// hc-install runs for real against it: it fetches the index, checks the
// signature with the armored public key it is given, downloads the archive,
// checks its checksum and unzips it.
type releasesServer struct {
	*httptest.Server
	publicKey string
	requests  atomic.Int64
	// tamper, when set, changes the archive after its checksum was taken.
	tamper atomic.Bool
	// hold, when set, makes the archive download wait until the client
	// gives up, to test an interrupted install.
	hold atomic.Bool
}

func newReleasesServer(t *testing.T, terraformVersion string) *releasesServer {
	t.Helper()
	signer, err := openpgp.NewEntity("challengectl test", "releases", "test@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	aw, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.Serialize(aw); err != nil {
		t.Fatal(err)
	}
	aw.Close()

	v := PinnedVersion
	zipName := fmt.Sprintf("terraform_%s_%s_%s.zip", v, runtime.GOOS, runtime.GOARCH)
	sumsName := fmt.Sprintf("terraform_%s_SHA256SUMS", v)
	sigName := sumsName + ".sig"

	var archive bytes.Buffer
	zw := zip.NewWriter(&archive)
	h := &zip.FileHeader{Name: "terraform", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "#!/bin/sh\ncat <<'JSON'\n%s\nJSON\n", versionJSON(terraformVersion))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(archive.Bytes())
	sums := fmt.Sprintf("%s  %s\n", hex.EncodeToString(sum[:]), zipName)
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, signer, strings.NewReader(sums), nil); err != nil {
		t.Fatal(err)
	}
	index, _ := json.Marshal(map[string]any{
		"name": "terraform", "version": v, "shasums": sumsName, "shasums_signatures": []string{sigName},
		"builds": []map[string]string{{
			"name": "terraform", "version": v, "os": runtime.GOOS, "arch": runtime.GOARCH, "filename": zipName,
			"url": "https://releases.hashicorp.com/terraform/" + v + "/" + zipName,
		}},
	})

	rs := &releasesServer{publicKey: pub.String()}
	prefix := "/terraform/" + v + "/"
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.requests.Add(1)
		switch r.URL.Path {
		case prefix + "index.json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(index)
		case prefix + sumsName:
			_, _ = w.Write([]byte(sums))
		case prefix + sigName:
			_, _ = w.Write(sig.Bytes())
		case prefix + zipName:
			if rs.hold.Load() {
				w.Header().Set("Content-Length", fmt.Sprint(archive.Len()))
				_, _ = w.Write(archive.Bytes()[:10])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return
			}
			body := bytes.Clone(archive.Bytes())
			if rs.tamper.Load() {
				body[len(body)/2] ^= 0xff
			}
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *releasesServer) options(cacheDir string) FindOptions {
	return FindOptions{LookPath: noPath, CacheDir: cacheDir, ReleasesURL: rs.URL, InstallTimeout: 30 * time.Second, armoredPublicKey: rs.publicKey}
}

// assertNothingInstalled fails when the cache holds a terraform binary or a
// staging directory is left next to it.
func assertNothingInstalled(t *testing.T, cacheDir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(cacheDir, "terraform")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a terraform binary was left in the cache after a failed install (stat: %v)", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(cacheDir), ".install-*"))
	if len(left) > 0 {
		t.Errorf("staging directories left behind: %v", left)
	}
}

func TestFindInstallsThePinnedRelease(t *testing.T) {
	rs := newReleasesServer(t, "1.9.8")
	cache := filepath.Join(t.TempDir(), "terraform", PinnedVersion)
	b, err := Find(context.Background(), rs.options(cache))
	if err != nil {
		t.Fatal(err)
	}
	if b.Source != "download" || b.Path != filepath.Join(cache, "terraform") || b.Version.String() != "1.9.8" {
		t.Errorf("installed %+v, want source download, path in %s, version 1.9.8", b, cache)
	}
	if st, err := os.Stat(b.Path); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("installed binary: %v, mode %v; want an executable file", err, st.Mode())
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(cache), ".install-*"))
	if len(left) > 0 {
		t.Errorf("staging directories left behind: %v", left)
	}

	// The second run uses the cache and does not touch the network.
	before := rs.requests.Load()
	b, err = Find(context.Background(), rs.options(cache))
	if err != nil || b.Source != "cache" {
		t.Fatalf("second run: %+v, %v; want the cached binary", b, err)
	}
	if n := rs.requests.Load() - before; n != 0 {
		t.Errorf("second run made %d requests to the releases server, want 0", n)
	}
}

func TestFindInstallRefusesBadReleases(t *testing.T) {
	t.Run("checksum mismatch", func(t *testing.T) {
		rs := newReleasesServer(t, "1.9.8")
		rs.tamper.Store(true)
		cache := filepath.Join(t.TempDir(), "tf")
		_, err := Find(context.Background(), rs.options(cache))
		var nf *NotFoundError
		if !errors.As(err, &nf) || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("tampered archive: want a *NotFoundError about the checksum, got %T: %v", err, err)
		}
		assertNothingInstalled(t, cache)
	})
	t.Run("signature by another key", func(t *testing.T) {
		rs := newReleasesServer(t, "1.9.8")
		o := rs.options(filepath.Join(t.TempDir(), "tf"))
		o.armoredPublicKey = newReleasesServer(t, "1.9.8").publicKey
		_, err := Find(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "signature") {
			t.Fatalf("foreign signature: want an error about the signature, got %v", err)
		}
		assertNothingInstalled(t, o.CacheDir)
	})
	t.Run("HashiCorp's own key rejects a test signature", func(t *testing.T) {
		rs := newReleasesServer(t, "1.9.8")
		o := rs.options(filepath.Join(t.TempDir(), "tf"))
		o.armoredPublicKey = "" // the product's default: HashiCorp's release key
		if _, err := Find(context.Background(), o); err == nil {
			t.Fatal("a release signed by an unknown key was installed with the default key")
		}
		assertNothingInstalled(t, o.CacheDir)
	})
	t.Run("release too old", func(t *testing.T) {
		rs := newReleasesServer(t, "1.5.7")
		cache := filepath.Join(t.TempDir(), "tf")
		_, err := Find(context.Background(), rs.options(cache))
		var ve *VersionError
		if !errors.As(err, &ve) || ve.Version != "1.5.7" {
			t.Fatalf("old release: want *VersionError for 1.5.7, got %T: %v", err, err)
		}
		assertNothingInstalled(t, cache)
	})
}

// TestFindInstallInterrupted: Ctrl-C during the download returns the
// context's error and leaves nothing the next run would trust.
func TestFindInstallInterrupted(t *testing.T) {
	rs := newReleasesServer(t, "1.9.8")
	rs.hold.Store(true)
	cache := filepath.Join(t.TempDir(), "tf")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the archive download has started.
		for rs.requests.Load() < 4 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := Find(ctx, rs.options(cache))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted install: want context.Canceled, got %T: %v", err, err)
	}
	assertNothingInstalled(t, cache)
}
