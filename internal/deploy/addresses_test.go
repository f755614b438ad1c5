package deploy

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/challengectl/challengectl/internal/testtools"
	"github.com/challengectl/challengectl/internal/tfconfig"
	"github.com/challengectl/challengectl/internal/tfdriver"
)

// TestAddressesExistInTheRealTree: the plan guard (tfdriver.DefaultGuarded)
// and --adopt name resources of terraform/ by address. A rename in the tree
// would silently disarm the guard (nothing would match) or make --adopt
// import into nothing, and the fixture tests, which inject their own
// addresses, would not notice.
func TestAddressesExistInTheRealTree(t *testing.T) {
	addrs, err := tfconfig.ResourceAddresses(filepath.Join(testtools.ModuleRoot(t), "terraform"))
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(tfdriver.DefaultGuarded), FunctionAddress, PermissionAddress)
	for _, a := range want {
		if !slices.Contains(addrs, a) {
			t.Errorf("%s is not a resource of terraform/ (it has %v)", a, addrs)
		}
	}
}
