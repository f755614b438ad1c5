// Command challengectl takes a small API from nothing to production on AWS
// and proves it works. All logic lives in internal/; see internal/app.
package main

import (
	"os"

	"github.com/challengectl/challengectl/internal/app"
)

func main() { os.Exit(app.Main()) }
