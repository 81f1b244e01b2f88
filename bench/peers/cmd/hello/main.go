// Command hello is a hello-world aws-lambda-go function: the floor of a Go
// function's cold start, for tollgate/bench.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	lambda.Start(func() (string, error) { return "hello", nil })
}
