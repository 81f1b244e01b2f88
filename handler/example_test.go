package handler_test

import (
	"context"
	"fmt"

	"tollgate/handler"
)

func ExampleHandler_Invoke() {
	event := `{"httpMethod":"GET","path":"/hello",
		"headers":{"Authorization":"Bearer tg_example_mobile_key_0123456789abcdefgh"},
		"requestContext":{"requestId":"req-1","authorizer":{"principalId":"mobile-app"}}}`
	answer, err := handler.Handler{}.Invoke(context.Background(), []byte(event))
	fmt.Println(string(answer), err)
	// Output:
	// {"statusCode":200,"headers":{"Cache-Control":"no-store","Content-Type":"application/json"},"multiValueHeaders":null,"body":"{\"message\":\"Hello, mobile-app\",\"principal\":\"mobile-app\",\"requestId\":\"req-1\",\"method\":\"GET\",\"path\":\"/hello\"}"} <nil>
}
