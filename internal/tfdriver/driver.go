// Package tfdriver drives Terraform (or OpenTofu) through terraform-exec for
// one stage: binary discovery, init with the S3 backend and DynamoDB lock,
// plan -out + show -json, the replacement guard, import, apply with progress
// from the JSON UI, outputs, destroy and force-unlock. It never prints: it
// logs through a *slog.Logger and returns data and typed errors.
package tfdriver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/challengectl/challengectl/internal/naming"
)

// Config describes one stage's Terraform working directory.
type Config struct {
	Binary     *Binary
	WorkingDir string // the Terraform configuration (root module)
	Stage      string // selects TF_DATA_DIR (naming.DataDirName)
	Backend    Backend
	// LockTimeout is how long plan, apply and import wait for the state lock.
	LockTimeout time.Duration
	// GracePeriod is how long Terraform may take to stop after an interrupt
	// (releasing the lock, writing state) before it is killed. Default 2m.
	GracePeriod time.Duration
	// Env is added to the inherited environment of every Terraform run.
	Env map[string]string
	// Getenv reads the environment for decisions (default os.Getenv).
	Getenv func(string) string
	// Output receives Terraform's own human output (for -v); nil drops it.
	Output io.Writer
	Logger *slog.Logger
}

// Driver runs Terraform commands for one stage.
type Driver struct {
	cfg    Config
	bin    *Binary
	layout Layout
	tf     *tfexec.Terraform
	log    *slog.Logger
}

// New prepares the stage's data dir and the backend file. It runs nothing.
func New(cfg Config) (*Driver, error) {
	if cfg.Binary == nil || cfg.Binary.Path == "" {
		return nil, errors.New("tfdriver: no Terraform binary (use Find)")
	}
	wd, err := filepath.Abs(cfg.WorkingDir)
	if err != nil {
		return nil, fmt.Errorf("resolve Terraform directory: %w", err)
	}
	if st, err := os.Stat(wd); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("terraform directory %s: %w", wd, errors.Join(err, errNotDir(st)))
	}
	for field, v := range map[string]string{"bucket": cfg.Backend.Bucket, "key": cfg.Backend.Key, "region": cfg.Backend.Region, "table": cfg.Backend.Table} {
		if v == "" {
			return nil, fmt.Errorf("tfdriver: backend %s is empty", field)
		}
	}
	if cfg.Stage == "" {
		cfg.Stage = "prod"
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = 2 * time.Minute
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Driver{
		cfg: cfg, bin: cfg.Binary, log: log,
		layout: Layout{WorkingDir: wd, DataDir: filepath.Join(wd, naming.DataDirName(cfg.Stage))},
	}
	if err := os.MkdirAll(d.layout.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create Terraform data dir: %w", err)
	}
	if err := os.WriteFile(d.layout.BackendFile(), cfg.Backend.ConfigHCLFor(d.bin.Version), 0o600); err != nil {
		return nil, fmt.Errorf("write backend config: %w", err)
	}
	tf, err := tfexec.NewTerraform(wd, d.bin.Path)
	if err != nil {
		return nil, fmt.Errorf("terraform-exec: %w", err)
	}
	env := tfexec.CleanEnv(envMap(os.Environ()))
	for k, v := range d.childEnvDelta() {
		env[k] = v
	}
	if err := tf.SetEnv(env); err != nil {
		return nil, fmt.Errorf("terraform environment: %w", err)
	}
	// terraform-exec sends os.Interrupt on context cancellation and waits
	// WaitDelay before killing: Terraform gets one interrupt, stops its
	// operations, writes state and releases the lock.
	if err := tf.SetWaitDelay(cfg.GracePeriod); err != nil {
		return nil, err
	}
	tf.SetLogger(printfLogger{log})
	if cfg.Output != nil {
		tf.SetStdout(cfg.Output)
		tf.SetStderr(cfg.Output)
	}
	d.tf = tf
	return d, nil
}

func errNotDir(st os.FileInfo) error {
	if st != nil && !st.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// Layout returns the files and folders the driver uses.
func (d *Driver) Layout() Layout { return d.layout }

// Binary returns the Terraform binary in use.
func (d *Driver) Binary() *Binary { return d.bin }

// WriteVars writes the var file that plan and import read.
func (d *Driver) WriteVars(vars map[string]any) error {
	b, err := VarFileJSON(vars)
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.layout.VarFile(), b, 0o600); err != nil {
		return fmt.Errorf("write Terraform var file: %w", err)
	}
	return nil
}

// HasVarFile reports whether a var file from an earlier run is on disk.
func (d *Driver) HasVarFile() bool {
	_, err := os.Stat(d.layout.VarFile())
	return err == nil
}

// UpdateVars overrides some variables of the existing var file.
func (d *Driver) UpdateVars(set map[string]any) error {
	b, err := os.ReadFile(d.layout.VarFile())
	if err != nil {
		return fmt.Errorf("read Terraform var file: %w", err)
	}
	vars := map[string]any{}
	if err := json.Unmarshal(b, &vars); err != nil {
		return fmt.Errorf("decode Terraform var file %s: %w", d.layout.VarFile(), err)
	}
	for k, v := range set {
		vars[k] = v
	}
	return d.WriteVars(vars)
}

// Cleanup removes the saved plan: a plan file embeds the prior state, and
// with it the API key, so it never outlives the run that made it.
func (d *Driver) Cleanup() {
	_ = os.Remove(d.layout.PlanFile())
}

// Init runs `init -reconfigure` with the generated backend file.
func (d *Driver) Init(ctx context.Context) error {
	inv, opts := d.initInvocation()
	d.log.Debug("terraform", "run", inv.String())
	return d.wrap(ctx, "init", d.tf.Init(ctx, opts...), "")
}

// Plan runs `plan -out` (with -destroy for a destroy plan) and reads the
// saved plan back with `show -json`.
func (d *Driver) Plan(ctx context.Context, destroy bool) (*Plan, error) {
	inv, opts := d.planInvocation(destroy)
	d.log.Debug("terraform", "run", inv.String())
	_ = os.Remove(d.layout.PlanFile())
	reap := watchGroups(ctx, d.bin.Path)
	changed, err := d.tf.Plan(ctx, opts...)
	reap()
	if err := d.wrap(ctx, "plan", err, ""); err != nil {
		return nil, err
	}
	raw, err := d.tf.ShowPlanFile(ctx, d.layout.PlanFile())
	if err := d.wrap(ctx, "show", err, ""); err != nil {
		return nil, err
	}
	p := newPlan(raw, d.layout.PlanFile())
	p.HasChanges = changed
	return p, nil
}

// Apply applies the saved plan from the last Plan call. progress (may be nil)
// is called with the number of resource operations completed and the total
// the plan announced, from Terraform's JSON UI.
func (d *Driver) Apply(ctx context.Context, p *Plan, progress func(done, total int)) error {
	if p == nil || p.File == "" {
		return errors.New("tfdriver: apply needs a saved plan")
	}
	inv, opts := d.applyInvocation()
	d.log.Debug("terraform", "run", inv.String())
	ui := &jsonUI{total: p.Operations(), progress: progress, log: d.log}
	if progress != nil {
		progress(0, ui.total)
	}
	reap := watchGroups(ctx, d.bin.Path)
	err := d.tf.ApplyJSON(ctx, ui, opts...)
	reap()
	ui.flush()
	return d.wrap(ctx, "apply", err, ui.diagnostics.String())
}

// Import adopts an existing object into the state at addr.
func (d *Driver) Import(ctx context.Context, addr, id string) error {
	inv, opts := d.importInvocation(addr, id)
	d.log.Debug("terraform", "run", inv.String())
	reap := watchGroups(ctx, d.bin.Path)
	err := d.tf.Import(ctx, addr, id, opts...)
	reap()
	return d.wrap(ctx, "import "+addr, err, "")
}

// ForceUnlock releases the state lock with the given ID.
func (d *Driver) ForceUnlock(ctx context.Context, id string) error {
	d.log.Debug("terraform", "run", Invocation{Command: "force-unlock", Flags: []string{"-force", id}, Env: d.childEnvDelta()}.String())
	return d.wrap(ctx, "force-unlock", d.tf.ForceUnlock(ctx, id), "")
}

// Output is one root-module output.
type Output struct {
	Value     any  `json:"value"`
	Sensitive bool `json:"sensitive"`
}

// String renders a string output as itself and anything else as JSON.
func (o Output) String() string {
	if s, ok := o.Value.(string); ok {
		return s
	}
	b, _ := json.Marshal(o.Value)
	return string(b)
}

// Outputs reads the root-module outputs from the state.
func (d *Driver) Outputs(ctx context.Context) (map[string]Output, error) {
	d.log.Debug("terraform", "run", Invocation{Command: "output", Flags: []string{"-json"}, Env: d.childEnvDelta()}.String())
	metas, err := d.tf.Output(ctx)
	if err := d.wrap(ctx, "output", err, ""); err != nil {
		return nil, err
	}
	out := make(map[string]Output, len(metas))
	for name, m := range metas {
		var v any
		if len(m.Value) > 0 {
			if err := json.Unmarshal(m.Value, &v); err != nil {
				return nil, fmt.Errorf("decode output %s: %w", name, err)
			}
		}
		out[name] = Output{Value: v, Sensitive: m.Sensitive}
	}
	return out, nil
}

// wrap classifies a failed run once, at the boundary, and names the step.
func (d *Driver) wrap(ctx context.Context, step string, err error, extra string) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("terraform %s stopped: %w", step, ctx.Err())
	}
	if typed := classify(err, extra); typed != err {
		return typed
	}
	if be := classifyBackend(err, extra+"\n"+err.Error(), d.cfg.Backend); be != nil {
		return be
	}
	msg := strings.TrimSpace(extra)
	if msg != "" {
		return fmt.Errorf("terraform %s: %w\n%s", step, err, msg)
	}
	return fmt.Errorf("terraform %s: %w", step, err)
}

// printfLogger adapts terraform-exec's Printf logging to debug records.
type printfLogger struct{ log *slog.Logger }

func (p printfLogger) Printf(format string, v ...any) {
	p.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// jsonUI reads Terraform's machine-readable UI (one JSON object per line)
// and reports progress and error diagnostics.
type jsonUI struct {
	buf         bytes.Buffer
	total, done int
	progress    func(done, total int)
	log         *slog.Logger
	diagnostics strings.Builder
}

type uiMessage struct {
	Level      string `json:"@level"`
	Message    string `json:"@message"`
	Type       string `json:"type"`
	Diagnostic *struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail"`
	} `json:"diagnostic"`
}

func (u *jsonUI) Write(p []byte) (int, error) {
	u.buf.Write(p)
	for {
		line, err := u.buf.ReadBytes('\n')
		if err != nil {
			// Incomplete line: keep it for the next write.
			u.buf.Reset()
			u.buf.Write(line)
			return len(p), nil
		}
		u.line(line)
	}
}

func (u *jsonUI) flush() {
	if u.buf.Len() > 0 {
		u.line(u.buf.Bytes())
		u.buf.Reset()
	}
}

func (u *jsonUI) line(b []byte) {
	var m uiMessage
	if err := json.Unmarshal(bytes.TrimSpace(b), &m); err != nil {
		return
	}
	switch m.Type {
	case "apply_complete":
		u.done++
		if u.done > u.total {
			u.total = u.done
		}
		if u.progress != nil {
			u.progress(u.done, u.total)
		}
	case "diagnostic":
		if m.Diagnostic != nil && m.Diagnostic.Severity == "error" {
			fmt.Fprintf(&u.diagnostics, "Error: %s\n%s\n", m.Diagnostic.Summary, m.Diagnostic.Detail)
		}
	}
	if m.Message != "" {
		u.log.Debug("terraform: " + m.Message)
	}
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
