// Command seed is the seeds' Go authorizer pattern as a Lambda function,
// fetching the secret on every invocation; see tollgate/bench/peers.
// TOLLGATE_SECRET_ID names the secret.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"tollgate/bench/peers"
)

func main() {
	s, err := peers.NewSeed(context.Background(), os.Getenv("TOLLGATE_SECRET_ID"))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(s.Token)
}
