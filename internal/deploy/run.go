package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/challengectl/challengectl/internal/naming"
	"github.com/challengectl/challengectl/internal/tfdriver"
)

// Run deploys one stage. With PlanOnly it stops after the plan (and the
// guard); with no changes it applies nothing and reads the outputs.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	res := &Result{StateKey: o.Key}

	pkg := o.PackagePath
	if pkg == "" {
		log.Info("building the Lambda package", "arch", o.Arch)
		p, err := o.Build(ctx, o.ProjectDir, o.Arch)
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		pkg = p
	}
	pkg, err := filepath.Abs(pkg)
	if err != nil {
		return nil, fmt.Errorf("resolve package path: %w", err)
	}
	hash, err := SourceCodeHash(pkg)
	if err != nil {
		return nil, err
	}
	res.PackagePath, res.SourceCodeHash = pkg, hash

	d, err := o.driver(ctx)
	if err != nil {
		return nil, err
	}
	defer d.Cleanup()
	res.Terraform, res.TerraformVer = d.Binary().Path, d.Binary().Version.String()
	if err := d.WriteVars(o.Vars(pkg, hash)); err != nil {
		return nil, err
	}
	log.Info("terraform init", "backend", "s3://"+o.Bucket+"/"+o.Key, "lock_table", o.Table)
	if err := d.Init(ctx); err != nil {
		return nil, err
	}
	log.Info("terraform plan")
	plan, err := d.Plan(ctx, false)
	if err != nil {
		return nil, err
	}

	guarded := o.GuardedAddresses
	// Adopt: the function exists in AWS but not in the state. Applying would
	// die on 409 CreateFunction; stop with the remedy, or import it.
	if !plan.Has(o.FunctionAddress) && plan.Creates(o.FunctionAddress) {
		emptyBefore := !plan.StateHasResources()
		imported, err := o.adopt(ctx, d)
		if err != nil {
			return nil, err
		}
		if len(imported) > 0 {
			res.Imported = imported
			log.Info("terraform plan (after import)")
			if plan, err = d.Plan(ctx, false); err != nil {
				return nil, err
			}
			if emptyBefore {
				// The state holds only what was just adopted: creating the
				// rest is a first deploy, but the adopted function must
				// still never be replaced.
				guarded = []string{o.FunctionAddress}
			}
		}
	}

	res.Summary, res.Changes = plan.Summary, plan.Changes
	res.NoChanges = plan.Summary.NoChanges() && !plan.OutputsChange()
	if err := tfdriver.Guard(plan, guarded); err != nil {
		if !o.AllowReplace {
			return res, err
		}
		log.Warn("--allow-replace: applying a plan that recreates guarded resources", "detail", err.Error())
	}
	log.Info("plan", "add", plan.Summary.Add, "change", plan.Summary.Change, "destroy", plan.Summary.Destroy, "forget", plan.Summary.Forget)
	if o.PlanOnly {
		res.Elapsed = time.Since(start)
		return res, nil
	}
	if !res.NoChanges {
		if err := o.confirm("deploy", plan.Summary); err != nil {
			return res, err
		}
		log.Info("terraform apply")
		if err := d.Apply(ctx, plan, o.Progress); err != nil {
			return res, err
		}
		res.Applied = true
	}
	outs, err := d.Outputs(ctx)
	if err != nil {
		return res, err
	}
	res.Outputs = outs
	res.Elapsed = time.Since(start)
	return res, nil
}

// adopt checks AWS for an existing function of this stage. Without Adopt it
// returns an *tfdriver.AdoptError with the remedy; with Adopt it imports the
// function and, when present, its API Gateway permission.
func (o *Options) adopt(ctx context.Context, d *tfdriver.Driver) ([]string, error) {
	cfg, err := o.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	name := naming.FunctionName(o.App, o.Stage)
	lc := lambda.NewFromConfig(cfg)
	_, err = lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	var nf *lambdatypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return nil, nil // a genuine first deploy
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		o.Logger.Warn("cannot check whether the Lambda function already exists; continuing", "function", name, "error", err)
		return nil, nil
	}
	if !o.Adopt {
		return nil, &tfdriver.AdoptError{FunctionName: name, Address: o.FunctionAddress, ImportArgs: d.ImportArgs(o.FunctionAddress, name)}
	}
	o.Logger.Info("adopting the existing Lambda function", "function", name, "address", o.FunctionAddress)
	if err := d.Import(ctx, o.FunctionAddress, name); err != nil {
		return nil, err
	}
	imported := []string{o.FunctionAddress}

	// A permission left by an earlier run would make AddPermission fail with
	// 409 (duplicate statement): import it too.
	id, err := existingPermission(ctx, lc, name, o.Stage)
	if err != nil {
		o.Logger.Warn("cannot read the function's resource policy; not importing a permission", "error", err)
		return imported, nil
	}
	if id != "" {
		sid := id[strings.LastIndexByte(id, '/')+1:]
		o.Logger.Info("adopting the existing API Gateway permission", "statement", sid, "address", o.PermissionAddress)
		if err := d.Import(ctx, o.PermissionAddress, id); err != nil {
			return imported, err
		}
		imported = append(imported, o.PermissionAddress)
	}
	return imported, nil
}

// existingPermission finds this stage's API Gateway invoke statement, on
// the function's live alias (where terraform/ grants it) or, from older
// set-ups, on the function itself. It returns the Terraform import ID:
// "<function>:<alias>/<sid>" or "<function>/<sid>".
func existingPermission(ctx context.Context, lc *lambda.Client, name, stage string) (string, error) {
	for _, q := range []string{PermissionQualifier, ""} {
		sid, err := permissionSid(ctx, lc, name, q, stage)
		if err != nil || sid == "" {
			if err != nil && q == "" {
				return "", err
			}
			continue
		}
		if q != "" {
			return name + ":" + q + "/" + sid, nil
		}
		return name + "/" + sid, nil
	}
	return "", nil
}

func permissionSid(ctx context.Context, lc *lambda.Client, name, qualifier, stage string) (string, error) {
	in := &lambda.GetPolicyInput{FunctionName: aws.String(name)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := lc.GetPolicy(ctx, in)
	var nf *lambdatypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var doc struct {
		Statement []struct {
			Sid       string
			Principal any
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
		return "", fmt.Errorf("decode resource policy: %w", err)
	}
	prefix := "AllowAPIGatewayInvoke-" + stage + "-"
	for _, s := range doc.Statement {
		if strings.HasPrefix(s.Sid, prefix) {
			return s.Sid, nil
		}
	}
	return "", nil
}

// DestroyResult is the outcome of Destroy.
type DestroyResult struct {
	Summary   PlanSummary               `json:"plan"`
	Changes   []tfdriver.ResourceChange `json:"changes"`
	Destroyed bool                      `json:"destroyed"`
}

// Destroy plans a destroy, confirms it (unless AutoApprove) and applies it.
// It reuses the variables of the last deploy of this stage when they are on
// disk, since Terraform evaluates the configuration on destroy too.
func Destroy(ctx context.Context, o Options) (*DestroyResult, error) {
	if err := o.validateLock(); err != nil {
		return nil, err
	}
	d, err := o.driver(ctx)
	if err != nil {
		return nil, err
	}
	defer d.Cleanup()
	if !d.HasVarFile() {
		// Placeholders that satisfy the variable validations; a destroy
		// never uploads the package.
		if err := d.WriteVars(o.Vars(filepath.Join(o.TerraformDir, "package.zip"), strings.Repeat("A", 43)+"=")); err != nil {
			return nil, err
		}
	} else if err := d.UpdateVars(map[string]any{"region": o.Region, "endpoint_url": o.EndpointURL}); err != nil {
		return nil, err
	}
	if err := d.Init(ctx); err != nil {
		return nil, err
	}
	o.Logger.Info("terraform plan -destroy")
	plan, err := d.Plan(ctx, true)
	if err != nil {
		return nil, err
	}
	res := &DestroyResult{Summary: plan.Summary, Changes: plan.Changes}
	if plan.Summary.NoChanges() || o.PlanOnly {
		return res, nil
	}
	if err := o.confirm("destroy", plan.Summary); err != nil {
		return res, err
	}
	o.Logger.Info("terraform apply (destroy)")
	if err := d.Apply(ctx, plan, o.Progress); err != nil {
		return res, err
	}
	res.Destroyed = true
	return res, nil
}

// Outputs returns the stage's Terraform outputs, or *NotDeployedError.
func Outputs(ctx context.Context, o Options) (map[string]Output, error) {
	if err := o.validateLock(); err != nil {
		return nil, err
	}
	d, err := o.driver(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.Init(ctx); err != nil {
		return nil, err
	}
	outs, err := d.Outputs(ctx)
	if err != nil {
		return nil, err
	}
	if len(outs) == 0 {
		return nil, &NotDeployedError{Stage: o.Stage, Key: o.Key}
	}
	return outs, nil
}

// ReadOutputs returns the current stage's API URL and key, for smoke and
// loadtest defaults.
func ReadOutputs(ctx context.Context, o Options) (url, key string, err error) {
	outs, err := Outputs(ctx, o)
	if err != nil {
		return "", "", err
	}
	u, ok := outs["api_url"]
	if !ok {
		return "", "", fmt.Errorf("stage %s has no api_url output", o.Stage)
	}
	k, ok := outs["api_key"]
	if !ok {
		return "", "", fmt.Errorf("stage %s has no api_key output", o.Stage)
	}
	return u.String(), k.String(), nil
}

// validateLock checks what outputs, destroy and the lock commands need:
// everything but the package.
func (o *Options) validateLock() error {
	saved := o.PackagePath
	o.PackagePath, o.lockOnly = "", true
	defer func() { o.PackagePath = saved }()
	return o.Validate()
}

// LockHolder reads the state lock straight from the DynamoDB table; nil
// when the state is not locked.
func LockHolder(ctx context.Context, o Options) (*tfdriver.LockInfo, error) {
	if err := o.validateLock(); err != nil {
		return nil, err
	}
	cfg, err := o.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) {
		// Emulators such as kumo send an x-amz-crc32 that does not match
		// their bodies; the SDK would print a warning per call.
		do.DisableValidateResponseChecksum = o.EndpointURL != ""
	})
	return tfdriver.ReadLock(ctx, ddb, o.Table, o.backend().LockID())
}

// NotLockedError reports an unlock of a state nobody holds, or of a lock ID
// that is not the current one.
type NotLockedError struct {
	ID      string
	Current *tfdriver.LockInfo
}

func (e *NotLockedError) Error() string {
	if e.Current == nil {
		return fmt.Sprintf("the state is not locked (nothing to release for lock %s)", e.ID)
	}
	return fmt.Sprintf("lock %s is not the current lock: the state is held by %s (%s) with lock ID %s; run challengectl unlock to see it", e.ID, e.Current.Who, e.Current.Operation, e.Current.ID)
}

// Unlock releases the state lock id through Terraform's force-unlock, after
// checking that id is the lock currently held.
func Unlock(ctx context.Context, o Options, id string) error {
	if err := o.validateLock(); err != nil {
		return err
	}
	cur, err := LockHolder(ctx, o)
	if err != nil {
		return err
	}
	if cur == nil || (cur.ID != "" && cur.ID != id) {
		return &NotLockedError{ID: id, Current: cur}
	}
	d, err := o.driver(ctx)
	if err != nil {
		return err
	}
	if err := d.Init(ctx); err != nil {
		return err
	}
	if err := d.ForceUnlock(ctx, id); err != nil {
		return err
	}
	after, err := LockHolder(ctx, o)
	if err != nil {
		return err
	}
	if after != nil && after.ID == id {
		return fmt.Errorf("terraform force-unlock returned but lock %s is still in table %s", id, o.Table)
	}
	return nil
}

// confirm asks o.Confirm before applying the plan of op (deploy, destroy),
// unless AutoApprove: ErrDeclined on a no, an error when nobody can be asked.
func (o *Options) confirm(op string, s PlanSummary) error {
	if o.AutoApprove {
		return nil
	}
	if o.Confirm == nil {
		return errors.New(op + ": refusing to apply without confirmation (pass --auto-approve)")
	}
	ok, err := o.Confirm(s)
	if err != nil {
		return err
	}
	if !ok {
		return ErrDeclined
	}
	return nil
}
