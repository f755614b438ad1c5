package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sivchari/kumo"

	"github.com/challengectl/challengectl/internal/app"
	"github.com/challengectl/challengectl/internal/testtools"
)

// TestMain registers the challengectl binary in-process, so the .txtar
// scenarios run the real command tree without a separate build.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"challengectl": func() { os.Exit(app.Main()) },
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets a hermetic HOME,
// $PROJECT (this checkout, for lambda/ and terraform/), $TOOLS (.bin) and the
// Go caches of the host so `build` does not recompile the world.
func TestScripts(t *testing.T) {
	root := testtools.ModuleRoot(t)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("PROJECT", root)
			env.Setenv("TOOLS", testtools.Dir(t))
			// No AWS configuration from the host leaks into a scenario.
			env.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "aws-config"))
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "aws-credentials"))
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOTOOLCHAIN", "CHALLENGECTL_REQUIRE_TOOLS"} {
				if v := os.Getenv(k); v != "" {
					env.Setenv(k, v)
				} else if k != "GOFLAGS" && k != "GOTOOLCHAIN" && k != "CHALLENGECTL_REQUIRE_TOOLS" {
					env.Setenv(k, goEnv(k))
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// kumo starts the AWS emulator for the rest of the script and
			// exports its URL as $KUMO_URL. It runs the pinned binary, one
			// process per script, so scripts never share storage (in-process
			// servers do) and -count=N works; without the binary, and when
			// tools are not required, it falls back to an in-process server.
			"kumo": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 0 {
					ts.Fatalf("usage: kumo")
				}
				bin := filepath.Join(testtools.Dir(t), "kumo")
				if _, err := os.Stat(bin); err != nil {
					if testtools.Required() {
						ts.Fatalf("%s is not built; run `make tools`", bin)
					}
					srv := kumo.NewServer()
					ts.Defer(srv.Close)
					ts.Setenv("KUMO_URL", srv.URL)
					return
				}
				dir := ts.MkAbs(".kumo") // its working folder, out of the script's way
				ts.Check(os.MkdirAll(dir, 0o755))
				addr, stop, err := testtools.StartKumo(bin, dir)
				ts.Check(err)
				ts.Defer(stop)
				ts.Setenv("KUMO_URL", "http://"+addr)
			},
		},
	})
}

// goEnv asks the go command for a setting, so scripts share the host's caches.
func goEnv(key string) string {
	out, err := execOutput("go", "env", key)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}
