// Command idiomatic is the idiomatic Go authorizer peer as a Lambda
// function; see tollgate/bench/peers. TOLLGATE_SECRET_ID names the secret.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"tollgate/bench/peers"
)

func main() {
	a, err := peers.NewIdiomatic(context.Background(), os.Getenv("TOLLGATE_SECRET_ID"))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(a.Token)
}
