// Package awsconfig loads the AWS SDK configuration from the CLI's global
// options, and refuses an empty or malformed region before any call is made:
// the seed's `Invalid ARN` came from an empty region reaching API Gateway.
package awsconfig

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/challengectl/challengectl/internal/clierr"
)

// regionPattern accepts partition-style names: us-east-1, eu-central-2,
// ap-southeast-4, us-gov-west-1, cn-north-1, us-isob-east-1, and the
// European Sovereign Cloud's eusc-de-east-1.
var regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

// ValidateRegion returns a usage error naming --region when r is empty or not
// shaped like an AWS region.
func ValidateRegion(r string) error {
	if r == "" {
		return clierr.Usage("--region", "no AWS region is set",
			"pass --region us-east-1, set AWS_REGION, or set region in your AWS profile")
	}
	if !regionPattern.MatchString(r) {
		return clierr.Usage("--region", fmt.Sprintf("%q is not an AWS region", r),
			"use a region name such as us-east-1 or eu-west-1")
	}
	return nil
}

// ValidateEndpoint checks an --endpoint-url value: an absolute http(s) URL.
func ValidateEndpoint(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return clierr.Usage("--endpoint-url", fmt.Sprintf("%q is not an http(s) URL", raw),
			"use a URL such as http://localhost:4566")
	}
	return nil
}

// Options select the profile, region and endpoint.
type Options struct {
	Region      string // already resolved from flag or environment; may be empty
	Profile     string
	EndpointURL string
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
}

// Load returns an aws.Config with a validated region. With an endpoint URL
// every client is sent there, and when no credentials are configured in the
// environment the emulator convention "test"/"test" is used.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	if err := ValidateEndpoint(o.EndpointURL); err != nil {
		return aws.Config{}, err
	}
	if o.Region != "" {
		if err := ValidateRegion(o.Region); err != nil {
			return aws.Config{}, err
		}
	}
	loaders := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient()),
		// Bounded retries: an unreachable endpoint fails in seconds, not minutes.
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = 4
				so.MaxBackoff = 2 * time.Second
			})
		}),
	}
	if o.Region != "" {
		loaders = append(loaders, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(o.Profile))
	}
	if o.EndpointURL != "" && o.Profile == "" && getenv(o, "AWS_ACCESS_KEY_ID") == "" {
		loaders = append(loaders, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider("test", "test", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if err := ValidateRegion(cfg.Region); err != nil {
		return aws.Config{}, err
	}
	if o.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	return cfg, nil
}

func getenv(o Options, k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

// httpClient bounds connection set-up so that a wrong endpoint or a network
// without AWS answers fails quickly and clearly.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = 5 * time.Second
			tr.ResponseHeaderTimeout = 60 * time.Second
		})
}
