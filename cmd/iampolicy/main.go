// Command iampolicy prints the IAM policy the identity that runs `pulumi
// preview`, `up` and `destroy` on a tollgate stack needs, and nothing more:
// every action the provider calls for what the program creates, each
// resource limited to the stack's names where AWS allows it
// (deploy/iampolicy lists them, with their sources).
//
//	go run ./cmd/iampolicy [-stack dev] [-project tollgate] [-region us-east-1] [-account 123456789012] [-partition aws]
//
// The project is read from Pulumi.yaml in the current directory unless
// -project names it; the stack's resources are named PROJECT-STACK-....
// Without -region and -account, the policy allows any Region and account
// ("*"). Attach it to the deploying role or user, for example:
//
//	go run ./cmd/iampolicy -stack dev -account 123456789012 > deployer.json
//	aws iam create-policy --policy-name tollgate-dev-deployer --policy-document file://deployer.json
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"tollgate/deploy/iampolicy"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, "."); err != nil {
		fmt.Fprintln(os.Stderr, "iampolicy:", err)
		os.Exit(2)
	}
}

// run prints the policy for args; dir holds Pulumi.yaml.
func run(args []string, out io.Writer, dir string) error {
	fs := flag.NewFlagSet("iampolicy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stack := fs.String("stack", "dev", "the stack")
	project := fs.String("project", "", "the Pulumi project (default: Pulumi.yaml's name)")
	var scope iampolicy.PolicyScope
	fs.StringVar(&scope.Region, "region", "", "the AWS Region (default: any)")
	fs.StringVar(&scope.Account, "account", "", "the AWS account id (default: any)")
	fs.StringVar(&scope.Partition, "partition", "aws", "the AWS partition")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *project == "" {
		p, err := projectName(filepath.Join(dir, "Pulumi.yaml"))
		if err != nil {
			return fmt.Errorf("%w (or give -project)", err)
		}
		*project = p
	}
	if scope.Account != "" && !isAccount(scope.Account) {
		return fmt.Errorf("-account %q: want 12 digits", scope.Account)
	}
	scope.Name = *project + "-" + *stack
	doc, err := iampolicy.DeployerPolicy(scope)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", doc)
	return err
}

// projectName is the top-level name: of a Pulumi.yaml.
func projectName(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "name:"); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New(path + ": no top-level name")
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
