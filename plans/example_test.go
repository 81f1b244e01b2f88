package plans_test

import (
	"fmt"

	"tollgate/api"
	"tollgate/plans"
)

func Example() {
	set := plans.Set{Default: "free", Plans: map[string]plans.Plan{
		"free":    {RateLimit: 5, BurstLimit: 10, Quota: &plans.Quota{Limit: 10000, Period: plans.Day}},
		"partner": {RateLimit: 100, BurstLimit: 200, Clients: []string{"reports"}},
	}}
	def := api.Default()
	fmt.Println(set.Validate([]string{"default", "reports"}, &def))
	fmt.Println(set.Of("reports"), set.Of("default"))

	set.Plans["gold"] = plans.Plan{Clients: []string{"reports"}}
	fmt.Println(set.Validate([]string{"default", "reports"}, &def))
	// Output:
	// <nil>
	// partner free
	// invalid plans: client "reports" is on two plans, gold and partner: API Gateway puts a key on one plan per stage
}
