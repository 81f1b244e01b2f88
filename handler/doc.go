// Package handler is tollgate's protected function: the Lambda behind the
// API's routes, reached through a REST API Lambda proxy integration
// (payload format 1.0).
//
// It follows
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html:
// the event carries the request (httpMethod, path, requestContext) and the
// answer is {"statusCode":…,"headers":{…},"body":"…"}.
//
// Every answer is JSON with Content-Type application/json. A request that
// reached it is answered 200 with
//
//	{"message":…,"principal":…,"requestId":…,"method":…,"path":…}
//
// where principal is the principalId the authorizer returned (read from
// requestContext.authorizer), or null on a public route. A POST whose body
// is not a JSON object is answered 400, and an event that is not a proxy
// event 400, each with {"message":…}.
//
// With Handler.AllowOrigin (cmd/handler: TOLLGATE_ALLOW_ORIGIN), every
// answer carries Access-Control-Allow-Origin and an OPTIONS request, a
// CORS preflight, is answered 204 with the allowed methods and headers.
//
// # Security guarantees
//
// The answer is built only from the method, the path, the request id and
// the principal: never from headers, so the Authorization header and any
// key a caller sent are never echoed, whatever the request holds. The
// request body is read only to check that it is a JSON object.
package handler
