// Command bootstrap is the challenge API as an AWS Lambda function (runtime
// provided.al2023). `challengectl build` compiles it with -tags lambda.norpc
// into a file named bootstrap; all behaviour lives in the handler package.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/challengectl/challengectl/lambda/handler"
)

func main() {
	// Lambda ships stdout to CloudWatch Logs; one JSON line per request.
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	lambda.Start(handler.New(logger).Handle)
}
