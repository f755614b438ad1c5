package statebackend

// Consistency of the IAM documents users copy from docs/iam/ with what the
// code calls. The trust and permissions policies are parsed and checked
// against IAM grammar basics; bootstrap then runs against kumo (fresh create,
// as on AWS, healthy second run, drift repair, error paths) with middleware
// recording every "Service.Operation" it sends. Each operation must have an
// entry in iamActionsByOperation, and each IAM action it needs must be
// allowed by docs/iam/deploy-policy.json. A new AWS call fails this test
// until the table (and, if needed, the policy and docs/aws-setup.md) is
// updated. Resources and conditions are not evaluated, only action names.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/challengectl/challengectl/internal/testtools"
)

// iamOp is what one SDK operation needs from IAM.
type iamOp struct {
	actions []string
	// recorded is true for operations bootstrap makes: the kumo scenarios
	// below must see each of them, so this table cannot keep stale rows.
	// The others are made by code this test does not run (named in note).
	recorded bool
	// withKMSKey: made only with --kms-key-id, which deploy.yaml does not
	// pass, so deploy-policy.json does not grant it (least privilege) and
	// docs/aws-setup.md tells users of --kms-key-id to add it.
	withKMSKey bool
	note       string
}

// iamActionsByOperation maps every AWS SDK operation challengectl itself
// sends ("ServiceID.Operation") to the IAM actions it needs. S3 action names
// differ from operation names; each row follows the operation's page in the
// S3 API reference ("Permissions").
var iamActionsByOperation = map[string]iamOp{
	// internal/statebackend (bootstrap, and the bootstrap step of ci).
	"STS.GetCallerIdentity": {actions: []string{"sts:GetCallerIdentity"}, recorded: true,
		note: "needs no permission per the STS API reference; listed anyway"},
	"S3.HeadBucket":        {actions: []string{"s3:ListBucket"}, recorded: true},
	"S3.GetBucketLocation": {actions: []string{"s3:GetBucketLocation"}, recorded: true},
	"S3.ListBuckets": {actions: []string{"s3:ListAllMyBuckets"}, recorded: true,
		note: "only after a 403, to tell another account's bucket from a missing permission"},
	// CreateBucket sends x-amz-object-ownership: S3 then also requires
	// s3:PutBucketOwnershipControls.
	"S3.CreateBucket":               {actions: []string{"s3:CreateBucket", "s3:PutBucketOwnershipControls"}, recorded: true},
	"S3.GetBucketOwnershipControls": {actions: []string{"s3:GetBucketOwnershipControls"}, recorded: true},
	"S3.PutBucketOwnershipControls": {actions: []string{"s3:PutBucketOwnershipControls"}, recorded: true},
	"S3.GetPublicAccessBlock":       {actions: []string{"s3:GetBucketPublicAccessBlock"}, recorded: true},
	"S3.PutPublicAccessBlock":       {actions: []string{"s3:PutBucketPublicAccessBlock"}, recorded: true},
	"S3.GetBucketVersioning":        {actions: []string{"s3:GetBucketVersioning"}, recorded: true},
	"S3.PutBucketVersioning":        {actions: []string{"s3:PutBucketVersioning"}, recorded: true},
	"S3.GetBucketEncryption":        {actions: []string{"s3:GetEncryptionConfiguration"}, recorded: true},
	"S3.PutBucketEncryption":        {actions: []string{"s3:PutEncryptionConfiguration"}, recorded: true},
	"S3.GetBucketPolicy":            {actions: []string{"s3:GetBucketPolicy"}, recorded: true},
	"S3.PutBucketPolicy":            {actions: []string{"s3:PutBucketPolicy"}, recorded: true},
	"S3.GetBucketTagging":           {actions: []string{"s3:GetBucketTagging"}, recorded: true},
	"S3.PutBucketTagging":           {actions: []string{"s3:PutBucketTagging"}, recorded: true},
	"DynamoDB.DescribeTable":        {actions: []string{"dynamodb:DescribeTable"}, recorded: true},
	// CreateTable sends Tags; dynamodb:TagResource is granted for it too
	// (tag-on-create authorization not confirmed for DynamoDB).
	"DynamoDB.CreateTable":        {actions: []string{"dynamodb:CreateTable", "dynamodb:TagResource"}, recorded: true},
	"DynamoDB.UpdateTable":        {actions: []string{"dynamodb:UpdateTable"}, recorded: true},
	"DynamoDB.ListTagsOfResource": {actions: []string{"dynamodb:ListTagsOfResource"}, recorded: true},
	"DynamoDB.TagResource":        {actions: []string{"dynamodb:TagResource"}, recorded: true},
	// --kms-key-id is looked up before anything is created. The key policy
	// must allow it too (KMS authorizes by key policy first).
	"KMS.DescribeKey": {actions: []string{"kms:DescribeKey"}, recorded: true, withKMSKey: true,
		note: "only with --kms-key-id"},

	// internal/deploy: the adopt check on a first deploy, deploy --adopt,
	// and the lock read of unlock.
	"Lambda.GetFunction": {actions: []string{"lambda:GetFunction", "lambda:ListTags"},
		note: "internal/deploy adopt check; the Lambda guide: ListTags is needed for GetFunction on a tagged function"},
	"Lambda.GetPolicy": {actions: []string{"lambda:GetPolicy"}, note: "internal/deploy, deploy --adopt"},
	"DynamoDB.GetItem": {actions: []string{"dynamodb:GetItem"}, note: "internal/tfdriver ReadLock (unlock)"},
}

// terraformActions are what Terraform needs for terraform/ with the S3
// backend and DynamoDB lock: the S3 backend's documented permissions, and
// what the AWS provider calls to create, read back, update, tag and (on
// replace or destroy) delete each resource. Not recorded here (Terraform is
// a separate process); kept in sync with deploy-policy.json by the tests.
var terraformActions = []string{
	// S3 backend (Terraform docs, backend/s3 "Permissions Required") and its
	// account lookup.
	"s3:ListBucket", "s3:GetObject", "s3:PutObject",
	"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem",
	"sts:GetCallerIdentity",
	// aws_lambda_function (publish = true), aws_lambda_alias, aws_lambda_permission.
	"lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
	"lambda:GetFunctionCodeSigningConfig", "lambda:ListVersionsByFunction",
	"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion",
	"lambda:DeleteFunction", "lambda:ListTags", "lambda:TagResource", "lambda:UntagResource",
	"lambda:CreateAlias", "lambda:GetAlias", "lambda:UpdateAlias", "lambda:DeleteAlias",
	"lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy",
	"iam:PassRole",
	// aws_iam_role (default_tags: tag on create) and aws_iam_role_policy.
	"iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy",
	"iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
	"iam:ListRolePolicies", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
	"iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
	// aws_cloudwatch_log_group: current and deprecated tag APIs, as the
	// provider version in use may call either.
	"logs:CreateLogGroup", "logs:DescribeLogGroups", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
	"logs:ListTagsForResource", "logs:TagResource", "logs:UntagResource",
	"logs:ListTagsLogGroup", "logs:TagLogGroup", "logs:UntagLogGroup",
	// API Gateway REST API, resources, methods, integrations, deployment,
	// stage, method settings, usage plan, API key, usage plan key, tags.
	"apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE",
}

// resourceStarActions may be granted on Resource "*": they have no resource
// type in the Service Authorization Reference.
var resourceStarActions = []string{"sts:GetCallerIdentity", "s3:ListAllMyBuckets", "logs:DescribeLogGroups"}

// iamPlaceholders are the tokens docs/aws-setup.md tells the user to replace.
var iamPlaceholders = []string{"ACCOUNT_ID", "REGION", "OWNER/REPO", "STATE_BUCKET", "LOCK_TABLE", "APP"}

// ---- the documents ---------------------------------------------------------

type iamDocument struct {
	Version   string
	Id        string `json:",omitempty"`
	Statement []iamStatement
}

type iamStatement struct {
	Sid          string
	Effect       string
	Principal    json.RawMessage
	NotPrincipal json.RawMessage
	Action       iamStrings
	NotAction    iamStrings
	Resource     iamStrings
	NotResource  iamStrings
	Condition    map[string]map[string]iamStrings
}

// iamStrings is a policy element that is a string or a list of strings.
type iamStrings []string

func (s *iamStrings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = iamStrings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	*s = many
	return nil
}

func readIAMDocument(t *testing.T, name string) (iamDocument, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testtools.ModuleRoot(t), "docs", "iam", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc iamDocument
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // "Actions", "Resources", …: IAM would refuse them
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if dec.More() {
		t.Fatalf("%s: trailing data after the policy document", name)
	}
	return doc, raw
}

var (
	iamActionRE = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9*?]+$`)
	iamSidRE    = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// checkIAMGrammar checks what every policy document needs; trust says
// whether it is a role trust policy (Principal, no Resource) or an identity
// policy (Resource, no Principal).
func checkIAMGrammar(t *testing.T, name string, doc iamDocument, trust bool) {
	t.Helper()
	if doc.Version != "2012-10-17" {
		t.Errorf("%s: Version %q, want 2012-10-17", name, doc.Version)
	}
	if len(doc.Statement) == 0 {
		t.Fatalf("%s: no Statement", name)
	}
	sids := map[string]bool{}
	for i, st := range doc.Statement {
		where := fmt.Sprintf("%s: statement %d (%s)", name, i, st.Sid)
		if st.Sid != "" {
			if !iamSidRE.MatchString(st.Sid) {
				t.Errorf("%s: Sid must be letters and digits", where)
			}
			if sids[st.Sid] {
				t.Errorf("%s: duplicate Sid", where)
			}
			sids[st.Sid] = true
		}
		if st.Effect != "Allow" && st.Effect != "Deny" {
			t.Errorf("%s: Effect %q", where, st.Effect)
		}
		if len(st.NotAction) > 0 || len(st.NotResource) > 0 || len(st.NotPrincipal) > 0 {
			t.Errorf("%s: NotAction/NotResource/NotPrincipal grant by exclusion; list what is needed", where)
		}
		if len(st.Action) == 0 {
			t.Errorf("%s: no Action", where)
		}
		for _, a := range st.Action {
			switch {
			case a == "*" || strings.HasSuffix(a, ":*"):
				t.Errorf("%s: action %q grants a whole service or everything", where, a)
			case !iamActionRE.MatchString(a):
				t.Errorf("%s: %q is not an IAM action (service:Action)", where, a)
			}
		}
		if trust {
			if len(st.Principal) == 0 || len(st.Resource) > 0 {
				t.Errorf("%s: a trust policy statement has a Principal and no Resource", where)
			}
			continue
		}
		if len(st.Principal) > 0 || len(st.Resource) == 0 {
			t.Errorf("%s: a permissions policy statement has a Resource and no Principal", where)
		}
		for _, r := range st.Resource {
			if r == "*" {
				for _, a := range st.Action {
					if !slices.Contains(resourceStarActions, a) {
						t.Errorf("%s: %s on Resource \"*\"; scope it to this app's resources", where, a)
					}
				}
				continue
			}
			if !strings.HasPrefix(r, "arn:aws:") {
				t.Errorf("%s: resource %q is not an ARN", where, r)
			}
		}
	}
}

// iamGlob matches an IAM action pattern (* and ?), case-insensitively as IAM
// compares action names.
func iamGlob(pattern, s string) bool {
	p, v := strings.ToLower(pattern), strings.ToLower(s)
	// Classic two-pointer wildcard match with backtracking on the last *.
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi++
			vi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// allows reports whether the policy allows action (by name only): some Allow
// statement matches it and no Deny statement does.
func (d iamDocument) allows(action string) bool {
	allowed := false
	for _, st := range d.Statement {
		for _, p := range st.Action {
			if iamGlob(p, action) {
				if st.Effect == "Deny" {
					return false
				}
				allowed = true
			}
		}
	}
	return allowed
}

func TestIAMGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"s3:Get*", "s3:GetBucketPolicy", true},
		{"s3:get*", "S3:GetBucketPolicy", true},
		{"s3:Get*", "s3:PutBucketPolicy", false},
		{"s3:*Bucket*", "s3:GetBucketTagging", true},
		{"logs:?agLogGroup", "logs:TagLogGroup", true},
		{"iam:PassRole", "iam:PassRoles", false},
		{"s3:ListBucket", "s3:ListBucketVersions", false},
		{"*", "sts:GetCallerIdentity", true},
	} {
		if got := iamGlob(c.p, c.s); got != c.want {
			t.Errorf("iamGlob(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
	deny := iamDocument{Statement: []iamStatement{
		{Effect: "Allow", Action: iamStrings{"s3:Get*"}},
		{Effect: "Deny", Action: iamStrings{"s3:GetObject"}},
	}}
	if !deny.allows("s3:GetBucketPolicy") || deny.allows("s3:GetObject") || deny.allows("s3:PutObject") {
		t.Error("allows does not combine Allow and Deny")
	}
}

// ---- grammar ---------------------------------------------------------------

func TestTrustPolicyDocument(t *testing.T) {
	doc, _ := readIAMDocument(t, "trust-policy.json")
	checkIAMGrammar(t, "trust-policy.json", doc, true)
	if len(doc.Statement) != 1 {
		t.Fatalf("want exactly one statement, got %d", len(doc.Statement))
	}
	st := doc.Statement[0]
	var principal struct{ Federated string }
	if err := json.Unmarshal(st.Principal, &principal); err != nil {
		t.Fatalf("Principal: %v", err)
	}
	if principal.Federated != "arn:aws:iam::ACCOUNT_ID:oidc-provider/token.actions.githubusercontent.com" {
		t.Errorf("Principal.Federated = %q, want GitHub's OIDC provider in ACCOUNT_ID", principal.Federated)
	}
	if st.Effect != "Allow" || !slices.Equal(st.Action, iamStrings{"sts:AssumeRoleWithWebIdentity"}) {
		t.Errorf("want Allow sts:AssumeRoleWithWebIdentity, got %s %v", st.Effect, st.Action)
	}
	// Exact matches only: a StringLike with a wildcard sub would let other
	// repositories, branches or environments assume the role.
	if len(st.Condition) != 1 || st.Condition["StringEquals"] == nil {
		t.Fatalf("want a single StringEquals condition, got %v", st.Condition)
	}
	eq := st.Condition["StringEquals"]
	if got := eq["token.actions.githubusercontent.com:aud"]; !slices.Equal(got, iamStrings{"sts.amazonaws.com"}) {
		t.Errorf("aud = %v, want sts.amazonaws.com", got)
	}
	// deploy.yaml's deploy job runs in `environment: <stage>` (prod on a
	// push to main), so GitHub's sub claim is repo:OWNER/REPO:environment:prod.
	if got := eq["token.actions.githubusercontent.com:sub"]; !slices.Equal(got, iamStrings{"repo:OWNER/REPO:environment:prod"}) {
		t.Errorf("sub = %v, want repo:OWNER/REPO:environment:prod", got)
	}
	workflow, err := os.ReadFile(filepath.Join(testtools.ModuleRoot(t), ".github", "workflows", "deploy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(workflow), "environment: ${{ github.event.inputs.stage || 'prod' }}") {
		t.Error("deploy.yaml no longer runs the deploy job in the environment named by the stage (default prod): " +
			"the sub claim in trust-policy.json and docs/aws-setup.md must follow it")
	}
}

func TestDeployPolicyDocument(t *testing.T) {
	doc, raw := readIAMDocument(t, "deploy-policy.json")
	checkIAMGrammar(t, "deploy-policy.json", doc, false)

	// A customer managed policy holds at most 6,144 characters, whitespace
	// not counted (IAM quotas).
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	if compact.Len() > 6144 {
		t.Errorf("deploy-policy.json is %d characters without whitespace; a managed policy holds 6,144", compact.Len())
	}

	// iam:PassRole only to Lambda.
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if !iamGlob(a, "iam:PassRole") {
				continue
			}
			if got := st.Condition["StringEquals"]["iam:PassedToService"]; !slices.Equal(got, iamStrings{"lambda.amazonaws.com"}) {
				t.Errorf("statement %s allows iam:PassRole without StringEquals iam:PassedToService = lambda.amazonaws.com", st.Sid)
			}
			if !slices.Equal(st.Action, iamStrings{"iam:PassRole"}) {
				t.Errorf("statement %s: keep iam:PassRole alone in its statement so its condition limits nothing else", st.Sid)
			}
		}
	}

	// Everything Terraform and challengectl need is allowed…
	needed := map[string]bool{}
	for _, a := range terraformActions {
		needed[a] = true
	}
	for _, op := range iamActionsByOperation {
		if op.withKMSKey {
			continue
		}
		for _, a := range op.actions {
			needed[a] = true
		}
	}
	for a := range needed {
		if !doc.allows(a) {
			t.Errorf("deploy-policy.json does not allow %s", a)
		}
	}
	// …and nothing else: each granted action pattern matches a needed action.
	for _, st := range doc.Statement {
		for _, p := range st.Action {
			used := false
			for a := range needed {
				if iamGlob(p, a) {
					used = true
					break
				}
			}
			if !used {
				t.Errorf("statement %s grants %s, which nothing in this test's tables needs: remove it or document why", st.Sid, p)
			}
		}
	}
}

// TestIAMPlaceholdersDocumented checks that every placeholder in docs/iam is
// one docs/aws-setup.md explains, and that none is left once they are
// replaced.
func TestIAMPlaceholdersDocumented(t *testing.T) {
	root := testtools.ModuleRoot(t)
	setup, err := os.ReadFile(filepath.Join(root, "docs", "aws-setup.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range iamPlaceholders {
		if !bytes.Contains(setup, []byte("`"+p+"`")) {
			t.Errorf("docs/aws-setup.md does not explain the placeholder `%s`", p)
		}
	}
	known := map[string]bool{}
	for _, p := range iamPlaceholders {
		for _, tok := range strings.Split(p, "/") {
			known[tok] = true
		}
	}
	// Placeholders live in ARNs and in the sub claim: ALL_CAPS tokens there.
	values := regexp.MustCompile(`"(?:arn|repo):[^"]*"`)
	caps := regexp.MustCompile(`[A-Z][A-Z_]*[A-Z]`)
	sample := strings.NewReplacer(
		"ACCOUNT_ID", "123456789012", "REGION", "eu-west-1", "OWNER/REPO", "acme/challenge",
		"STATE_BUCKET", "acme-tf-state", "LOCK_TABLE", "acme-tf-locks", "APP", "challenge-api")
	for _, name := range []string{"trust-policy.json", "deploy-policy.json"} {
		_, raw := readIAMDocument(t, name)
		for _, v := range values.FindAllString(string(raw), -1) {
			for _, tok := range caps.FindAllString(v, -1) {
				if !known[tok] {
					t.Errorf("%s: %s holds %s, which is not one of the documented placeholders %v", name, v, tok, iamPlaceholders)
				}
			}
		}
		rendered := sample.Replace(string(raw))
		if !json.Valid([]byte(rendered)) {
			t.Fatalf("%s is not valid JSON once its placeholders are replaced", name)
		}
		for _, v := range values.FindAllString(rendered, -1) {
			if tok := caps.FindString(v); tok != "" {
				t.Errorf("%s: %s still holds %s once the placeholders are replaced", name, v, tok)
			}
		}
	}
}

// ---- what bootstrap calls --------------------------------------------------

// opRecorder records "ServiceID.Operation" for every SDK call of a config.
type opRecorder struct {
	mu  sync.Mutex
	ops map[string]int
}

func (r *opRecorder) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("testRecordServiceOperation",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				r.mu.Lock()
				if r.ops == nil {
					r.ops = map[string]int{}
				}
				r.ops[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)]++
				r.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

func (r *opRecorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.ops {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ownershipEnforced is what AWS answers GetBucketOwnershipControls on a
// bucket bootstrap made (kumo always answers "not configured").
var ownershipEnforced = &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &s3types.OwnershipControls{
	Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}

// awsLike makes kumo answer as AWS does for what it does not implement
// (ownership controls, table SSE, UpdateTable), as the request-level tests
// in gaps_test.go do, so the paths taken against AWS are the ones recorded.
func awsLike(cfg *aws.Config, tbl *awsTable, ownership bool) {
	ic := &interceptor{capture: map[string]bool{"UpdateTable": true}, override: tbl.override,
		answer: map[string]any{"PutBucketOwnershipControls": &s3.PutBucketOwnershipControlsOutput{}}}
	if ownership {
		ic.answer["GetBucketOwnershipControls"] = ownershipEnforced
	}
	ic.rewrite = func(op string, _ *smithyhttp.Response) {
		if op == "UpdateTable" {
			reqs := ic.requests("UpdateTable")
			tbl.apply(reqs[len(reqs)-1].Body)
		}
	}
	ic.attach(cfg)
}

func TestBootstrapCallsAllowedByDeployPolicy(t *testing.T) {
	policy, _ := readIAMDocument(t, "deploy-policy.json")
	setup, err := os.ReadFile(filepath.Join(testtools.ModuleRoot(t), "docs", "aws-setup.md"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := &opRecorder{}
	run := func(t *testing.T, cfg aws.Config, o Options) (*Report, error) {
		t.Helper()
		rec.attach(&cfg)
		o.Logger, _ = logBuffer()
		return Ensure(ctx, cfg, o)
	}
	mustRun := func(t *testing.T, cfg aws.Config, o Options) *Report {
		t.Helper()
		rep, err := run(t, cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	t.Run("fresh create on the emulator, then a healthy run", func(t *testing.T) {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			cfg := kumoConfig(t, region)
			o := testOptions(uniqueName("iam-fresh"), uniqueName("locks"))
			mustRun(t, cfg, o)
			if rep := mustRun(t, cfg, o); rep.Changed {
				t.Errorf("second run changed something: %+v", rep.Changes)
			}
		}
	})

	t.Run("fresh create as on AWS, then a healthy run and a dry run", func(t *testing.T) {
		// us-east-1: kumo reports every bucket there (GetBucketLocation),
		// which only an emulated run forgives.
		tbl := &awsTable{sse: true}
		cfg := kumoConfig(t, "us-east-1")
		awsLike(&cfg, tbl, false)
		o := testOptions(uniqueName("iam-aws"), uniqueName("locks"))
		o.Emulated = false
		rep := mustRun(t, cfg, o)
		mustChange(t, rep, "bucket", SettingOwnership, ActionCreated)

		cfg2 := kumoConfig(t, "us-east-1")
		awsLike(&cfg2, tbl, true)
		if rep := mustRun(t, cfg2, o); rep.Changed {
			t.Errorf("second run changed something: %+v", rep.Changes)
		}
		dry := o
		dry.DryRun = true
		mustRun(t, cfg2, dry)
	})

	t.Run("drift repair as on AWS", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		o := testOptions(uniqueName("iam-drift"), uniqueName("locks"))
		mustRun(t, cfg, o)
		// Every bucket setting undone at once…
		s := s3Client(cfg)
		_, err := s.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &o.Bucket,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
		must(t, err)
		_, err = s.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: &o.Bucket})
		must(t, err)
		_, err = s.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: &o.Bucket})
		must(t, err)
		_, err = s.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &o.Bucket, Policy: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Sid":"AuditRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/audit"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + o.Bucket + `/*"}]}`)})
		must(t, err)
		_, err = s.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &o.Bucket, Tagging: &s3types.Tagging{
			TagSet: []s3types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}}}})
		must(t, err)
		// …and a hand-made lock table: provisioned, unprotected, untagged.
		o.Table = uniqueName("locks")
		_, err = ddbClient(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:             &o.Table,
			AttributeDefinitions:  []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
			ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
		})
		must(t, err)

		cfg2 := kumoConfig(t, "us-east-1")
		awsLike(&cfg2, &awsTable{}, false)
		o.Emulated = false
		rep := mustRun(t, cfg2, o)
		for _, setting := range []string{SettingOwnership, SettingVersioning, SettingEncryption, SettingPublicAccessBlock, SettingTLSPolicy, SettingTags} {
			mustChange(t, rep, "bucket", setting, ActionRepaired)
		}
		for _, setting := range []string{SettingBilling, SettingEncryption, SettingDeletionProtection, SettingTags} {
			mustChange(t, rep, "table", setting, ActionRepaired)
		}
	})

	t.Run("with --kms-key-id as on AWS: fresh create, healthy run, unknown key", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		key := createKey(t, cfg, "", "")
		alias := createAlias(t, cfg, key)
		tbl := &awsTable{sse: true, sseKey: key.arn}
		cfg1 := kumoConfig(t, "us-east-1")
		awsLike(&cfg1, tbl, false)
		o := testOptions(uniqueName("iam-kms"), uniqueName("locks"))
		o.KMSKeyID, o.Emulated = alias, false
		mustRun(t, cfg1, o)
		cfg2 := kumoConfig(t, "us-east-1")
		awsLike(&cfg2, tbl, true)
		if rep := mustRun(t, cfg2, o); rep.Changed {
			t.Errorf("second run changed something: %+v", rep.Changes)
		}
		bad := o
		bad.KMSKeyID = "alias/" + uniqueName("missing")
		if _, err := run(t, cfg2, bad); err == nil {
			t.Error("an unknown alias did not fail")
		}
	})

	t.Run("error paths", func(t *testing.T) {
		cfg := kumoConfig(t, "us-east-1")
		o := testOptions(uniqueName("iam-err"), uniqueName("locks"))
		mustRun(t, cfg, o)
		// A 403 on HeadBucket: bootstrap lists the account's buckets to say
		// whose bucket it is.
		cfg403 := kumoConfig(t, "us-east-1")
		(&interceptor{rewrite: func(op string, r *smithyhttp.Response) {
			if op == "HeadBucket" {
				r.StatusCode = 403
			}
		}}).attach(&cfg403)
		if _, err := run(t, cfg403, o); err == nil {
			t.Error("a 403 on HeadBucket did not fail")
		}
	})

	ops := rec.names()
	t.Logf("operations recorded: %v", ops)
	for _, op := range ops {
		entry, ok := iamActionsByOperation[op]
		switch {
		case !ok:
			t.Errorf("bootstrap calls %s, which iamActionsByOperation does not map to IAM actions: "+
				"add it, and allow its actions in docs/iam/deploy-policy.json (see docs/aws-setup.md)", op)
			continue
		case !entry.recorded:
			t.Errorf("%s is recorded here but its table row says recorded: false", op)
		}
		for _, a := range entry.actions {
			switch {
			case entry.withKMSKey && !bytes.Contains(setup, []byte("`"+a+"`")):
				t.Errorf("%s needs %s with --kms-key-id, which docs/aws-setup.md does not tell users of --kms-key-id to grant", op, a)
			case !entry.withKMSKey && !policy.allows(a):
				t.Errorf("%s needs %s, which docs/iam/deploy-policy.json does not allow", op, a)
			}
		}
	}
	for op, entry := range iamActionsByOperation {
		if entry.recorded && !slices.Contains(ops, op) {
			t.Errorf("%s is in the table as a bootstrap call but no scenario made it: "+
				"cover its code path here or remove the row", op)
		}
	}
}
