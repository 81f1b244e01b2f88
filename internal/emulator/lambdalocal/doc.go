// Package lambdalocal runs Lambda functions on this machine: each
// execution environment is a real process started from the function's
// bootstrap binary, talking to a Lambda Runtime API that this package
// serves on 127.0.0.1, as on the provided.al2023 runtime. No container is
// involved.
//
// It follows
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html (the
// next, response, error and init/error endpoints and their headers) and
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
// (the environment Lambda sets).
//
// Internal extensions (goroutines of the function's process) may register
// through the Extensions API during init, as on Lambda
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html):
// each gets every INVOKE event, and an instance takes its next invocation
// only once the runtime and every extension have asked for their next
// event. With Function.Freeze an idle instance is also stopped (SIGSTOP)
// until it takes one, as Lambda freezes an environment between
// invocations. Pool.Recycle replaces every instance, as a configuration
// change does.
//
// Scaling follows Lambda's: an invocation goes to an idle (warm) instance
// if there is one; otherwise a new instance starts for it (a cold start),
// up to Function.MaxInstances, after which invocations wait for the first
// instance to come free. An instance that exits, or runs past the
// function's timeout (it is then killed), fails the invocation it was
// running with a FunctionError and is replaced by the next cold start. An
// instance that does not ask for its first invocation within the init
// timeout is killed too.
//
// Function.Report receives what Lambda's REPORT log line tells of each
// answered invocation: its duration and, for an instance's first, the
// init duration (process start to the first call to next) and the
// cold-start time (process start to the first answer). tollgate/bench
// measures whole-process cold starts with it.
//
// Every instance runs in its own process group; Pool.Close kills them all
// and waits for them. On Linux an instance is also killed if the process
// that started it dies.
package lambdalocal
