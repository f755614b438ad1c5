package deploy

import (
	"context"

	"github.com/challengectl/challengectl/internal/deploy"
	"github.com/challengectl/challengectl/internal/factory"
)

// ResolveTarget returns the current stage's API URL and key from its
// Terraform outputs, for the defaults of smoke and loadtest. The state is
// located by TF_STATE_BUCKET, TF_STATE_KEY and TF_STATE_TABLE, as for deploy.
func ResolveTarget(ctx context.Context, f *factory.Factory) (url, key string, err error) {
	var s StateFlags
	o, err := s.DeployOptions(ctx, f)
	if err != nil {
		return "", "", err
	}
	return deploy.ReadOutputs(ctx, o)
}
