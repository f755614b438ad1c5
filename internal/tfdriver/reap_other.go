//go:build !linux

package tfdriver

import "context"

// watchGroups is Linux-only (it reads /proc); elsewhere Terraform's own
// interrupt handling is all there is.
func watchGroups(context.Context, string) func() { return func() {} }
