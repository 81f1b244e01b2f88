package conformance

import (
	"context"
	"fmt"
	"time"
)

// Rows of a usage plan: a key on a small test plan of the stage
// (Target.PlanKey) is throttled past its burst and refused past its
// quota, with API Gateway's messages
// (https://repost.aws/knowledge-center/api-gateway-429-limit).

const (
	srcPlans         = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html"
	msgLimitExceeded = "Limit Exceeded"
	errThrottled     = "TooManyRequestsException"
	errLimitExceeded = "LimitExceededException"
)

// planThrottled: requests sent at once with the plan's key, ten more than
// its burst, are answered 429 Too Many Requests past what its bucket
// holds, and the rest 200. At most 60 requests.
func planThrottled(ctx context.Context, t *Target) error {
	n := min(max(t.PlanBurst, 0), 50) + 10
	answers, err := t.atOnce(ctx, n, t.PlanRoute, t.PlanKey)
	if err != nil {
		return err
	}
	throttled := 0
	for _, a := range answers {
		switch {
		case a.status == 429 && a.message() == msgLimitExceeded:
			return fmt.Errorf("the plan's quota is spent already (%s): use a key whose quota is left, or wait for the period's end", a)
		case a.status == 429:
			if err := expect(a, 429, msgThrottled, errThrottled); err != nil {
				return err
			}
			throttled++
		case a.status != 200:
			return fmt.Errorf("%s: %s, want 200 or 429", t.PlanRoute, a)
		}
	}
	if throttled == 0 {
		return fmt.Errorf("%d requests at once with the plan's key, of burst %d: none throttled", n, t.PlanBurst)
	}
	return nil
}

// planQuota: requests with the plan's key, one at a time at its rate,
// are answered 200 until its quota is spent, then 429 Limit Exceeded; a
// throttled one is sent again after a pause. At most quota + 30
// requests, and never more 200s than the quota. It spends the key's
// quota for the period.
func planQuota(ctx context.Context, t *Target) error {
	pause := time.Second
	if t.PlanRate > 0 {
		pause = time.Duration(float64(time.Second)/t.PlanRate) + 10*time.Millisecond
	}
	passed := 0
	for range t.PlanQuota + 30 {
		a, err := t.call(ctx, t.PlanRoute, t.PlanKey)
		if err != nil {
			return err
		}
		switch {
		case a.status == 200:
			passed++
			if passed > t.PlanQuota {
				return fmt.Errorf("%d requests let through, past the quota of %d", passed, t.PlanQuota)
			}
		case a.status == 429 && a.message() == msgLimitExceeded:
			return expect(a, 429, msgLimitExceeded, errLimitExceeded)
		case a.status == 429:
		default:
			return fmt.Errorf("%s: %s, want 200 or 429", t.PlanRoute, a)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	return fmt.Errorf("no 429 %s after %d requests let through of a quota of %d", msgLimitExceeded, passed, t.PlanQuota)
}
