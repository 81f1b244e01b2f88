// Command handler is tollgate's protected function: the handler package
// served by the Lambda runtime, behind the API's routes. Build it as
// bootstrap for the provided.al2023 runtime (make lambdas). It reads no
// configuration.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"tollgate/handler"
)

func main() {
	lambda.Start(handler.Handler{})
}
