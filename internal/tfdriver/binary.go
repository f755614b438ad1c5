package tfdriver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// PinnedVersion is the Terraform release installed into the user cache when
// neither terraform nor tofu is on PATH.
const PinnedVersion = "1.9.8"

// Binary is a Terraform or OpenTofu executable that passed the version check.
type Binary struct {
	Path    string
	Version *version.Version
	Source  string // "flag", "PATH terraform", "PATH tofu", "cache", "download"
}

// FindOptions control binary discovery.
type FindOptions struct {
	// Explicit is --terraform-bin; when set, nothing else is tried.
	Explicit string
	// LookPath finds a command on PATH (exec.LookPath by default).
	LookPath func(string) (string, error)
	// CacheDir is where the pinned release is installed; default
	// os.UserCacheDir()/challengectl/terraform/<PinnedVersion>.
	CacheDir string
	// NoInstall disables the download of the pinned release.
	NoInstall bool
	// ReleasesURL overrides releases.hashicorp.com (tests point it at a
	// closed loopback port to act offline).
	ReleasesURL string
	// InstallTimeout bounds the download (default 2 minutes).
	InstallTimeout time.Duration
	Logger         *slog.Logger

	// armoredPublicKey replaces HashiCorp's release signing key; only tests
	// set it, to sign the releases of their fake releases server.
	armoredPublicKey string
}

// Find returns the Terraform binary to use, in this order: Explicit;
// terraform on PATH; tofu on PATH; the pinned release in the user cache,
// installed there with hc-install when missing. Every candidate must report
// a version ≥ MinVersion.
func Find(ctx context.Context, o FindOptions) (*Binary, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Explicit != "" {
		p, err := filepath.Abs(o.Explicit)
		if err != nil {
			return nil, fmt.Errorf("resolve --terraform-bin: %w", err)
		}
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			if err == nil {
				err = errors.New("is a directory")
			}
			return nil, &NotFoundError{Tried: []string{"--terraform-bin " + o.Explicit}, Err: err}
		}
		return check(ctx, p, "flag")
	}
	lookPath := o.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	var tried []string
	for _, name := range []string{"terraform", "tofu"} {
		p, err := lookPath(name)
		if err != nil {
			tried = append(tried, name+" on PATH")
			continue
		}
		return check(ctx, p, "PATH "+name)
	}

	dir := o.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, &NotFoundError{Tried: append(tried, "user cache"), Err: err}
		}
		dir = filepath.Join(base, "challengectl", "terraform", PinnedVersion)
	}
	cached := filepath.Join(dir, "terraform")
	if _, err := os.Stat(cached); err == nil {
		return check(ctx, cached, "cache")
	}
	tried = append(tried, cached)
	if o.NoInstall {
		return nil, &NotFoundError{Tried: tried}
	}
	log.Info("installing Terraform into the user cache", "version", PinnedVersion, "dir", dir)
	b, err := install(ctx, o, dir)
	var verr *VersionError
	switch {
	case err == nil:
		return b, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &verr):
		return nil, err
	default:
		return nil, &NotFoundError{Tried: append(tried, "download of Terraform "+PinnedVersion), Err: err}
	}
}

// install downloads the pinned release with hc-install, which checks the
// signature of the SHA256SUMS file and the archive's checksum, into a
// staging directory next to dir, and moves the binary to dir/terraform only
// once it is complete and passed the version check. An interrupted or failed
// download thus never leaves a partial binary where the next run would find
// and trust it.
func install(ctx context.Context, o FindOptions, dir string) (*Binary, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(filepath.Dir(dir), ".install-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	timeout := o.InstallTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	src := &releases.ExactVersion{
		Product:          product.Terraform,
		Version:          version.Must(version.NewVersion(PinnedVersion)),
		InstallDir:       staging,
		Timeout:          timeout,
		ApiBaseURL:       o.ReleasesURL,
		ArmoredPublicKey: o.armoredPublicKey,
		// A plain client, not hc-install's retrying one: offline, the user
		// should learn in seconds that nothing could be downloaded.
		HTTPClient: &http.Client{Timeout: timeout, Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		}},
	}
	p, err := src.Install(ctx)
	if err != nil {
		return nil, err
	}
	b, err := check(ctx, p, "download")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b.Path = filepath.Join(dir, "terraform")
	if err := os.Rename(p, b.Path); err != nil {
		return nil, fmt.Errorf("move the downloaded binary into %s: %w", dir, err)
	}
	return b, nil
}

// check runs `version -json` and enforces MinVersion.
func check(ctx context.Context, path, source string) (*Binary, error) {
	tf, err := tfexec.NewTerraform(os.TempDir(), path)
	if err != nil {
		return nil, &VersionError{Path: path, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		return nil, &VersionError{Path: path, Err: err}
	}
	minV := version.Must(version.NewVersion(MinVersion))
	// Pre-releases of the minimum (1.6.0-beta1) compare lower; accept the core.
	if v.Core().LessThan(minV) {
		return nil, &VersionError{Path: path, Version: v.String()}
	}
	return &Binary{Path: path, Version: v, Source: source}, nil
}
