//go:build tools

// Package tools pins the main package this module builds from its requirements: the Pulumi CLI
// (`go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi`). The language host is this module's own
// main package, cmd/pulumi-language-nodejs.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
