// Command handler is tollgate's protected function: the handler package
// served by the Lambda runtime, behind the API's routes. Build it as
// bootstrap for the provided.al2023 runtime (make lambdas). It reads two
// settings: TOLLGATE_ALLOW_ORIGIN (handler.EnvAllowOrigin), the origin
// whose pages may call the API (CORS), and TOLLGATE_ECHO_EVENTS
// (handler.EnvEchoEvents), "1" to answer requests carrying
// X-Tollgate-Echo with the event, for the conformance suite.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"tollgate/handler"
)

func main() {
	lambda.Start(handler.Handler{
		AllowOrigin: os.Getenv(handler.EnvAllowOrigin),
		EchoEvents:  os.Getenv(handler.EnvEchoEvents) == "1",
	})
}
