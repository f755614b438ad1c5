package testtools

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/challengectl/challengectl/internal/awsconfig"
)

// StateBackend is a kumo with a versioned state bucket and a lock table, as
// challengectl bootstrap leaves them, for tests of the Terraform S3 backend.
type StateBackend struct {
	URL    string     // kumo's endpoint
	Config aws.Config // SDK configuration aimed at it (us-east-1)
	Bucket string
	Table  string
}

// NewStateBackend starts kumo in-process and creates the bucket and table.
// kumo servers in one process share their storage, so the names carry the
// test's name and a time-based suffix.
func NewStateBackend(t testing.TB) *StateBackend {
	t.Helper()
	url := Kumo(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{Region: "us-east-1", EndpointURL: url, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	suffix := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	b := &StateBackend{URL: url, Config: cfg, Bucket: "tfstate-" + suffix, Table: "tflock-" + suffix}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.Bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b.Bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(b.Table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	return b
}
