// Command chatpay runs the chatpay service: the HTTP server (REST API, pay pages,
// webhooks), the chat channels and the background jobs.
//
//	chatpay [serve] [--config FILE]   run everything (the default)
//	chatpay migrate [--config FILE]   apply database migrations and exit
//	chatpay version                   print the version
//	chatpay user add --shop ID --email E [--role owner|staff]
//	                                  add a dashboard user (password on stdin, or generated)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run := Run
	// user is dispatched here rather than in Run because it alone reads stdin.
	if len(os.Args) > 1 && os.Args[1] == "user" {
		run = func(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) (string, bool)) error {
			return RunUser(ctx, args[1:], os.Stdin, stdout, stderr, env)
		}
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv); err != nil {
		fmt.Fprintln(os.Stderr, "chatpay:", err)
		os.Exit(1)
	}
}
