// Command chatpay runs the chatpay service: the HTTP server (REST API, pay pages,
// webhooks), the chat channels and the background jobs.
//
//	chatpay [serve] [--config FILE]   run everything (the default)
//	chatpay migrate [--config FILE]   apply database migrations and exit
//	chatpay version                   print the version
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv); err != nil {
		fmt.Fprintln(os.Stderr, "chatpay:", err)
		os.Exit(1)
	}
}
