// Command minimal is the smallest useful aws-lambda-go program: the baseline
// the cold-start benchmark compares the real bootstrap against. It is built
// with the same flags as the real function, in the same benchmark run.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "ok", nil })
}
