package api_test

import (
	"fmt"

	"tollgate/api"
)

func ExampleDefinition_Match() {
	d := api.Default()
	d.Routes = append(d.Routes, api.Route{Method: "GET", Path: "/orders/{id}", Function: "handler", Protected: true})
	if err := d.Validate(); err != nil {
		panic(err)
	}
	r, params, ok := d.Match("GET", "/orders/42")
	fmt.Println(r, r.Protected, params, ok)
	_, _, ok = d.Match("DELETE", "/orders/42")
	fmt.Println(ok)
	// Output:
	// GET /orders/{id} true map[id:42] true
	// false
}

func ExampleRender() {
	d := api.Default()
	r := d.Response(api.AccessDenied)
	body := api.Render(r.Template, api.ErrorContext{
		RequestID:    "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
		ResponseType: api.AccessDenied,
		Message:      "User is not authorized to access this resource with an explicit deny",
	})
	fmt.Println(r.StatusCode, string(body))
	// Output:
	// 403 {"message":"User is not authorized to access this resource with an explicit deny","type":"ACCESS_DENIED","requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}
}

func ExampleParseFile() {
	def, err := api.ParseFile([]byte(`
functions:
  orders:
    package: ./functions/orders
routes:
  - route: GET /orders/{id}
    function: orders
  - route: GET /status
    function: orders
    public: true
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range def.Routes {
		fmt.Println(r, "->", r.Function, "protected:", r.Protected)
	}
	fmt.Println("authorizer:", def.Functions[def.Authorizer.Function].Package)
	// Output:
	// GET /orders/{id} -> orders protected: true
	// GET /status -> orders protected: false
	// authorizer: tollgate/cmd/authorizer
}
