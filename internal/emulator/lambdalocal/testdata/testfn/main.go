// Command testfn is a Lambda function for lambdalocal's tests, built on
// aws-lambda-go so the real runtime client talks to the emulated Runtime
// API. What it does is chosen by the event:
//
//	{"echo":V}          answers V
//	{"env":"NAME"}      answers the variable's value
//	{"deadline":true}   answers the milliseconds left before the deadline
//	{"sleep":"1s"}      sleeps, then answers "slept"
//	{"error":"msg"}     reports the error msg
//	{"crash":true}      exits with status 3 mid-invocation
//	{"big":N}           answers a string of N bytes
//	{"log":"line"}      writes line to stdout, answers "logged"
//	{"extension":true}  answers how many INVOKE events its extension has
//	                    finished with (TESTFN_EXTENSION set)
//	{"register":true}   registers an extension now, answers the status
//
// TESTFN_EXTENSION=D registers an internal extension during init that,
// for each INVOKE event, works for the duration D before asking for the
// next one.
//
// TESTFN_INIT=exit makes it exit before starting; TESTFN_INIT=hang makes
// it never start; TESTFN_INIT=report reports an init error to the Runtime
// API, then exits; TESTFN_INIT=sleep:D sleeps for the duration D, then
// starts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Echo     json.RawMessage `json:"echo"`
	Env      string          `json:"env"`
	Deadline bool            `json:"deadline"`
	Sleep    string          `json:"sleep"`
	Error    string          `json:"error"`
	Crash    bool            `json:"crash"`
	Big      int             `json:"big"`
	Log      string          `json:"log"`
	Ext      bool            `json:"extension"`
	Register bool            `json:"register"`
}

var extDone atomic.Int64 // INVOKE events the extension has finished with

// register registers an internal extension and returns the response.
func register() (*http.Response, error) {
	req, _ := http.NewRequest("POST", "http://"+os.Getenv("AWS_LAMBDA_RUNTIME_API")+"/2020-01-01/extension/register", strings.NewReader(`{"events":["INVOKE"]}`))
	req.Header.Set("Lambda-Extension-Name", "testfn")
	return http.DefaultClient.Do(req)
}

// runExtension works for d after each INVOKE event.
func runExtension(id string, d time.Duration) {
	for {
		req, _ := http.NewRequest("GET", "http://"+os.Getenv("AWS_LAMBDA_RUNTIME_API")+"/2020-01-01/extension/event/next", nil)
		req.Header.Set("Lambda-Extension-Identifier", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		_ = resp.Body.Close()
		time.Sleep(d)
		extDone.Add(1)
	}
}

func handle(ctx context.Context, ev event) (any, error) {
	switch {
	case ev.Echo != nil:
		return ev.Echo, nil
	case ev.Env != "":
		return os.Getenv(ev.Env), nil
	case ev.Deadline:
		d, _ := ctx.Deadline()
		return time.Until(d).Milliseconds(), nil
	case ev.Sleep != "":
		d, _ := time.ParseDuration(ev.Sleep)
		time.Sleep(d)
		return "slept", nil
	case ev.Error != "":
		return nil, errors.New(ev.Error)
	case ev.Crash:
		os.Exit(3)
	case ev.Big > 0:
		return strings.Repeat("x", ev.Big), nil
	case ev.Ext:
		return extDone.Load(), nil
	case ev.Register:
		resp, err := register()
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	case ev.Log != "":
		fmt.Println(ev.Log)
		return "logged", nil
	}
	return nil, errors.New("unknown event")
}

func main() {
	if d, ok := strings.CutPrefix(os.Getenv("TESTFN_INIT"), "sleep:"); ok {
		dur, _ := time.ParseDuration(d)
		time.Sleep(dur)
	}
	switch os.Getenv("TESTFN_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "init failed on purpose")
		os.Exit(1)
	case "report":
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"errorMessage":"bad config","errorType":"Runtime.ConfigError"}`))
		if err != nil || resp.StatusCode != http.StatusAccepted {
			fmt.Fprintln(os.Stderr, "reporting the init error:", err, resp)
		}
		os.Exit(1)
	case "hang":
		time.Sleep(time.Hour)
	}
	if d, err := time.ParseDuration(os.Getenv("TESTFN_EXTENSION")); err == nil {
		resp, err := register()
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, "registering the extension:", err, resp)
			os.Exit(1)
		}
		go runExtension(resp.Header.Get("Lambda-Extension-Identifier"), d)
	}
	lambda.Start(handle)
}
