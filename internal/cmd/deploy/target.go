package deploy

import (
	"context"

	"github.com/challengectl/challengectl/internal/clierr"
	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/factory"
)

// ResolveTarget returns the current stage's API URL and key from its
// Terraform outputs, for the defaults of smoke and loadtest. The state is
// located by TF_STATE_BUCKET, TF_STATE_KEY and TF_STATE_TABLE, as for deploy.
func ResolveTarget(ctx context.Context, f *factory.Factory) (url, key string, err error) {
	if f.Getenv("TF_STATE_BUCKET") == "" || f.Getenv("TF_STATE_TABLE") == "" {
		// Nothing says where a deployment's state is: the user must name the API.
		return "", "", clierr.Usage("--url", "no API URL",
			"pass --url and --api-key, set CHALLENGECTL_API_URL/CHALLENGECTL_API_KEY, or set TF_STATE_BUCKET and TF_STATE_TABLE to use the deployed stage")
	}
	var s StateFlags
	o, err := s.DeployOptions(ctx, f)
	if err != nil {
		return "", "", err
	}
	return deploy.ReadOutputs(ctx, o)
}
